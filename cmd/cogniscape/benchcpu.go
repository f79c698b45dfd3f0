package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is a snapshot of the CPU time used so far by a server child, by
// this process (the load generator) and by the whole machine, read from
// /proc. On systems without /proc every field stays zero and the benchmark
// reports no CPU figures.
type cpuSample struct {
	server, sender     time.Duration
	machineBusy, total time.Duration
}

// clockTick is Linux's USER_HZ, the unit of /proc's CPU times; it is 100 on
// every architecture Go supports.
const clockTick = 10 * time.Millisecond

func sampleCPU(serverPID int) cpuSample {
	var s cpuSample
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", serverPID)); err == nil {
		// Fields after the command name, which is in parentheses and may hold spaces.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			f := strings.Fields(string(stat[i+1:]))
			if len(f) > 12 { // utime and stime are fields 14 and 15 of the line, 12 and 13 here
				u, _ := strconv.ParseInt(f[11], 10, 64)
				k, _ := strconv.ParseInt(f[12], 10, 64)
				s.server = time.Duration(u+k) * clockTick
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.sender = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if stat, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(stat), "\n") // "cpu  user nice system idle iowait irq softirq steal …"
		f := strings.Fields(line)
		for i, v := range f[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			d := time.Duration(n) * clockTick
			s.total += d
			if i != 3 && i != 4 { // idle, iowait
				s.machineBusy += d
			}
		}
	}
	return s
}

// cpuPerEvent is what one phase of the benchmark cost per acknowledged event.
type cpuPerEvent struct {
	Server, Sender, Machine time.Duration
	Idle                    float64 // share of the machine's time spent idle or waiting for the disk
}

func (a cpuSample) perEvent(b cpuSample, events int) cpuPerEvent {
	if events == 0 || b.total == 0 {
		return cpuPerEvent{}
	}
	n := time.Duration(events)
	return cpuPerEvent{
		Server:  (b.server - a.server) / n,
		Sender:  (b.sender - a.sender) / n,
		Machine: (b.machineBusy - a.machineBusy) / n,
		Idle:    1 - float64(b.machineBusy-a.machineBusy)/float64(b.total-a.total),
	}
}

func (c cpuPerEvent) String() string {
	if c.Machine == 0 {
		return "not measured"
	}
	us := func(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/1e3) }
	return fmt.Sprintf("server %s, load generator %s, machine %s (%.0f%% idle)", us(c.Server), us(c.Sender), us(c.Machine), 100*c.Idle)
}
