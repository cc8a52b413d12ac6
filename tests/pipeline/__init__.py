"""Policy tests of the stages over in-memory fakes: no HTTP, no filesystem, no real clock."""
