"""emkit internals."""
