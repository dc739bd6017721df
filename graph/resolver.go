package graph

// Resolver is the root resolver. It only holds the application services.
type Resolver struct{}
