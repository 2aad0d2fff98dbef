package container

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
		bad  bool
	}{
		{"KILL", syscall.SIGKILL, false},
		{"SIGTERM", syscall.SIGTERM, false},
		{"sigusr1", syscall.SIGUSR1, false},
		{"hup", syscall.SIGHUP, false},
		{"9", syscall.SIGKILL, false},
		{"0", 0, true},
		{"65", 0, true},
		{"NOPE", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSignal(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseSignal(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestStopSignal(t *testing.T) {
	c := &Container{}
	if sig, err := StopSignal(c); err != nil || sig != syscall.SIGTERM {
		t.Errorf("default stop signal %v, %v", sig, err)
	}
	c.Config.StopSignal = "SIGQUIT"
	if sig, err := StopSignal(c); err != nil || sig != syscall.SIGQUIT {
		t.Errorf("record's stop signal %v, %v", sig, err)
	}
}

// TestWaitPid waits for a real process that is not our child's waiter
// (pidfd), and times out on one that keeps running.
func TestWaitPid(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	start, err := ProcStartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	if WaitPid(pid, start, 10*time.Millisecond) {
		t.Fatal("WaitPid reported a running process as gone")
	}
	done := make(chan bool, 1)
	go func() { done <- WaitPid(pid, start, 5*time.Second) }()
	cmd.Wait() // reap it, as a supervisor would
	if !<-done {
		t.Fatal("WaitPid timed out on an exited process")
	}
	if !WaitPid(os.Getpid(), start, 0) {
		t.Error("WaitPid trusted a pid whose start time differs")
	}
}
