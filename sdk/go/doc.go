// Package kiln is a thin Go client for Kiln's kiln.v1.Registry API: uploads that stream a directory as a tar in
// constant memory, paged lists as iterators, watch and download streams, and errors by gRPC code.
//
//	c, err := kiln.Dial("127.0.0.1:50051")
//	v, err := c.Upload(ctx, "models/mnist", "mnist", &kiln.UploadOptions{Labels: map[string]string{"team": "vision"}})
//	for v, err := range c.ListVersions(ctx, "mnist", nil) { ... }
//	if errors.Is(err, kiln.ErrNotFound) { ... }
//
// The generated stubs are in gen/kiln/v1 (package kilnv1), made from proto/ by generate.sh.
package kiln
