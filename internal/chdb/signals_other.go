//go:build !linux

package chdb

// signalState is empty where libchdb is not supported.
type signalState struct{}

// saveSignals does nothing outside Linux.
func saveSignals() *signalState { return &signalState{} }

// restoreSignals does nothing outside Linux.
func restoreSignals(*signalState) []int { return nil }
