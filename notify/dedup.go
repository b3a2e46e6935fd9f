package notify

import (
	"container/list"
	"sync"
)

// seen is a bounded set with least-recently-used eviction: the records each
// destination has finished with (delivered or dead-lettered), so that a
// Kafka duplicate is not delivered twice. It is safe for concurrent use.
type seen struct {
	mu    sync.Mutex
	max   int
	order *list.List // of string, most recent at the front
	index map[string]*list.Element
}

func newSeen(max int) *seen {
	return &seen{max: max, order: list.New(), index: make(map[string]*list.Element, min(max, 1<<16))}
}

// has reports whether key is in the set, and makes it the most recent.
func (s *seen) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.index[key]
	if ok {
		s.order.MoveToFront(e)
	}
	return ok
}

// add puts key in the set, evicting the least recently used key when full.
func (s *seen) add(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.index[key]; ok {
		s.order.MoveToFront(e)
		return
	}
	s.index[key] = s.order.PushFront(key)
	for s.order.Len() > s.max {
		old := s.order.Back()
		s.order.Remove(old)
		delete(s.index, old.Value.(string))
	}
}

// len returns the number of keys held.
func (s *seen) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}
