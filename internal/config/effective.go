package config

// Setting is one variable of the configuration as the instance runs with it, for people to look
// at (the administration console): where its value came from, and the value itself unless it
// is a secret.
type Setting struct {
	Name string
	// Value is the value in force; for a secret only "(set)" or "", never the value.
	Value string
	// Source is "environment", "file" (NAME_FILE) or "default".
	Source string
	Secret bool
}

// secretShown stands for the value of a secret that is set.
const secretShown = "(set)"

// Effective lists every variable of the table with the value getenv gives it (or the one read
// from its NAME_FILE, or the documented default), secrets masked. It reads no file: a file's
// value is shown as the file's path for a secret's sake and for brevity.
func Effective(getenv func(string) string) []Setting {
	out := make([]Setting, 0, len(vars))
	for _, v := range vars {
		s := Setting{Name: v.Name, Secret: v.Secret}
		switch raw, path := getenv(v.Name), fileOf(getenv, v); {
		case raw != "":
			s.Source, s.Value = "environment", raw
		case path != "":
			s.Source, s.Value = "file", path
		default:
			s.Source, s.Value = "default", v.Default
		}
		if s.Secret && s.Source != "file" {
			if s.Value != "" {
				s.Value = secretShown
			}
		}
		out = append(out, s)
	}
	return out
}

func fileOf(getenv func(string) string, v Var) string {
	if !v.File {
		return ""
	}
	return getenv(v.Name + "_FILE")
}
