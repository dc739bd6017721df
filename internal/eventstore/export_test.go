package eventstore

// QueuedAppends is how many appends wait in s's group commit queue, for
// tests that hold a group back and need to know when the rest have queued.
func QueuedAppends(s *Store) int {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	return len(s.groups.queue)
}
