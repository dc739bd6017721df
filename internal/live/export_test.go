package live

import "time"

// SetHealth sets how long b's Run waits for a message before it pings (and,
// after an unanswered ping, reconnects). Call it before Run.
func SetHealth(b *RedisBroker, d time.Duration) { b.health = d }
