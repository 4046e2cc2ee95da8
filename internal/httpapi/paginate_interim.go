package httpapi

import "net/http"

// paginate and respondCreated stand in for rest.Paginate and rest.RespondCreated until the rest
// package is on this branch; they have the same contract.

// paginate cuts items, fetched with limit+1, to at most limit and returns the cursor of the
// next page: key of the last item kept, or "" when nothing follows.
func paginate[T any](items []T, limit int, key func(T) any) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, EncodeCursor(key(items[len(items)-1]))
}

// respondCreated writes a 201 with the new resource's Location and its ETag.
func respondCreated(w http.ResponseWriter, r *http.Request, location string, data any) error {
	w.Header().Set("Location", location)
	return RespondResource(w, r, http.StatusCreated, data)
}
