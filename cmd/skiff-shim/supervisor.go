package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiffcontainers/skiff/libpod/shim"
)

const (
	// chunkSize is conmon's STDIO_BUF_SIZE: one read of the container's output, hence the longest content
	// of one log entry; a longer line becomes several P entries and a final F.
	chunkSize = 8192
	// drainTimeout bounds the wait for the end of the container's output once its init has exited. In a
	// pid namespace the kernel has killed every other process by then, so the end comes at once; with the
	// host's pid namespace a daemonized child may hold the pipes open for ever.
	drainTimeout = time.Second
	// consoleTimeout bounds the wait for the pty master after the runtime's create has succeeded (it sends
	// it before exiting).
	consoleTimeout = 5 * time.Second
)

// supervisor is the shim's state for its one container.
type supervisor struct {
	cfg  *shim.Config
	sync *os.File // fd 3, nil once reported

	log *k8sLog
	hub *hub
	ln  *os.File

	outputs []*os.File // our read ends: stdout, stderr (pipes) or the pty master
	streams []byte     // the frame type of each output
	stdin   *os.File   // the write end of the container's stdin pipe, or the pty master
	pty     *os.File

	pid    int
	oom    *oomWatch
	copies sync.WaitGroup
	// drainBy is when copyOrdered must stop waiting for the end of the output (unix nanoseconds; 0: no limit).
	drainBy atomic.Int64
}

// openSyncPipe returns fd 3 when it is the pipe Spawn passes, and keeps it from leaking into the runtime.
func openSyncPipe() *os.File {
	var st unix.Stat_t
	if err := unix.Fstat(3, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	unix.CloseOnExec(3)
	return os.NewFile(3, "sync")
}

func (s *supervisor) report(m shim.SyncMessage) {
	if s.sync == nil {
		return
	}
	data, _ := json.Marshal(m)
	_, _ = s.sync.Write(append(data, '\n'))
	s.sync.Close()
	s.sync = nil
}

// fail reports a failure of the shim itself (not the runtime's) and logs it.
func (s *supervisor) fail(err error) {
	fmt.Fprintln(os.Stderr, "skiff-shim:", err)
	s.report(shim.SyncMessage{Error: err.Error(), Code: 125})
}

func (s *supervisor) path(name string) string { return filepath.Join(s.cfg.RunDir, name) }

func (s *supervisor) run() int {
	cfg := s.cfg
	if err := shim.WriteFileAtomic(s.path(shim.ShimPIDFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		s.fail(fmt.Errorf("writing %s: %w", shim.ShimPIDFile, err))
		return 1
	}
	// The container's init is the runtime's child; when `create` exits it is reparented to us.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		s.fail(fmt.Errorf("becoming a child subreaper: %w", err))
		return 1
	}
	signal.Ignore(syscall.SIGPIPE, syscall.SIGHUP)
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGCHLD, unix.SIGTERM, unix.SIGINT, unix.SIGQUIT, unix.SIGUSR1)

	if cfg.EffectiveLogDriver() == shim.LogDriverK8sFile {
		l, err := openK8sLog(cfg.LogPath, cfg.LogMaxSize)
		if err != nil {
			s.fail(err)
			return 1
		}
		s.log = l
	}
	if err := s.listen(); err != nil {
		s.fail(err)
		return 1
	}
	if err := s.create(); err != nil {
		var rerr *runtimeFailure
		if errors.As(err, &rerr) {
			code, _ := shim.ClassifyRuntimeError(rerr.msg)
			s.report(shim.SyncMessage{Error: rerr.msg, Code: code, Runtime: filepath.Base(cfg.Runtime)})
		} else {
			s.fail(err)
		}
		s.closeListener()
		return 1
	}
	s.oom = newOOMWatch(s.pid)
	s.report(shim.SyncMessage{PID: s.pid})

	// From here on nothing depends on the CLI: it may be gone.
	go s.hub.serve(s.ln)
	if len(s.outputs) > 1 {
		s.copies.Add(1)
		go s.copyOrdered(s.outputs, s.streams)
	} else {
		for i, f := range s.outputs {
			s.copies.Add(1)
			go s.copyOutput(f, s.streams[i])
		}
	}
	status := s.waitContainer(sigs)
	return s.finish(status)
}

func (s *supervisor) listen() error {
	path, release, err := shim.SocketPath(s.cfg.RunDir, shim.AttachSocket)
	if err != nil {
		return err
	}
	_ = os.Remove(s.path(shim.AttachSocket))
	ln, err := listenUnix(path)
	release()
	if err != nil {
		return fmt.Errorf("attach socket: %w", err)
	}
	s.ln = ln
	return nil
}

func (s *supervisor) closeListener() {
	if s.ln != nil {
		s.ln.Close()
		_ = os.Remove(s.path(shim.AttachSocket))
	}
}

// runtimeFailure is the runtime's refusal, as opposed to the shim's own errors.
type runtimeFailure struct{ msg string }

func (e *runtimeFailure) Error() string { return e.msg }

// pipe2 makes a pipe whose end ours is non-blocking (served by Go's poller) and whose other end, the
// container's, stays blocking: a container must never see EAGAIN on its stdio.
func pipe2(oursIsRead bool) (ours, theirs *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, err
	}
	o, t := p[0], p[1]
	if !oursIsRead {
		o, t = t, o
	}
	if err := unix.SetNonblock(o, true); err != nil {
		unix.Close(o)
		unix.Close(t)
		return nil, nil, err
	}
	return os.NewFile(uintptr(o), "pipe"), os.NewFile(uintptr(t), "pipe"), nil
}

// create runs `RUNTIME create` with the container's stdio and learns the container's pid.
func (s *supervisor) create() error {
	cfg := s.cfg
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devNull.Close()

	args := append([]string{}, cfg.RuntimeArgs...)
	ociLog := ""
	if logsJSON(cfg.Runtime, cfg.RuntimeArgs) {
		// As podman: the runtime's own errors go to a file, in JSON, rather than into the container's stderr.
		ociLog = s.path("oci-log")
		_ = os.Remove(ociLog)
		args = append(args, "--log", ociLog, "--log-format", "json")
	}
	args = append(args, "create", "--bundle", cfg.Bundle, "--pid-file", s.path(shim.PIDFile))

	cmd := exec.Command(cfg.Runtime)
	cmd.Dir = cfg.Bundle
	var theirs []*os.File // the container's ends, closed once the runtime has them
	defer func() {
		for _, f := range theirs {
			f.Close()
		}
	}()
	var errOut *os.File // where the runtime's stderr can be read back on failure
	var console *consoleListener

	switch {
	case cfg.EffectiveLogDriver() == shim.LogDriverPassthrough:
		cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, os.Stdout, os.Stderr
		if cfg.Stdin {
			cmd.Stdin = os.Stdin
		}
	case cfg.Terminal:
		console, err = listenConsole(cfg.RunDir)
		if err != nil {
			return err
		}
		defer console.Close()
		args = append(args, "--console-socket", console.path)
		// The pty is the container's stdio; the runtime's stderr is only its error channel.
		r, w, err := pipe2(true)
		if err != nil {
			return err
		}
		defer r.Close()
		theirs = append(theirs, w)
		errOut = r
		cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, devNull, w
	default:
		outR, outW, err := pipe2(true)
		if err != nil {
			return err
		}
		theirs = append(theirs, outW)
		errR, errW, err := pipe2(true)
		if err != nil {
			outR.Close()
			return err
		}
		theirs = append(theirs, errW)
		s.outputs = []*os.File{outR, errR}
		s.streams = []byte{shim.FrameStdout, shim.FrameStderr}
		errOut = errR
		cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, outW, errW
		if cfg.Stdin {
			inW, inR, err := pipe2(false)
			if err != nil {
				return err
			}
			theirs = append(theirs, inR)
			s.stdin = inW
			cmd.Stdin = inR
		}
	}
	cmd.Args = append([]string{cfg.Runtime}, append(args, cfg.ID)...)

	if err := cmd.Start(); err != nil {
		// The runtime itself cannot run: an engine problem (125), not the container's command (126/127).
		return fmt.Errorf("starting the OCI runtime: %w", err)
	}
	for _, f := range theirs {
		f.Close()
	}
	theirs = nil
	werr := cmd.Wait()
	if werr != nil {
		msg := runtimeMessage(ociLog)
		if msg == "" && errOut != nil {
			msg = strings.TrimSpace(string(drainNow(errOut)))
		}
		if msg == "" {
			msg = fmt.Sprintf("%s create: %v", filepath.Base(cfg.Runtime), werr)
		}
		s.closeOutputs()
		return &runtimeFailure{msg: msg}
	}
	if cfg.Terminal {
		pty, err := console.receive(consoleTimeout)
		if err != nil {
			return fmt.Errorf("receiving the container's pty from %s: %w", filepath.Base(cfg.Runtime), err)
		}
		if msg := drainNow(errOut); len(msg) > 0 {
			fmt.Fprintf(os.Stderr, "skiff-shim: %s create: %s\n", filepath.Base(cfg.Runtime), bytes.TrimSpace(msg))
		}
		s.pty = pty
		if cfg.Stdin {
			s.stdin = pty // without -i, clients' input does not reach the terminal
		}
		s.outputs = []*os.File{pty}
		s.streams = []byte{shim.FrameStdout}
	}
	pid, err := readPIDFile(s.path(shim.PIDFile))
	if err != nil {
		s.closeOutputs()
		return err
	}
	s.pid = pid
	var flags byte
	if cfg.Terminal {
		flags |= shim.HelloTerminal
	}
	if s.stdin != nil {
		flags |= shim.HelloStdin
	}
	s.hub = newHub(s.log, flags, s.stdin, s.pty)
	return nil
}

func (s *supervisor) closeOutputs() {
	for _, f := range s.outputs {
		f.Close()
	}
	if s.stdin != nil && s.stdin != s.pty {
		s.stdin.Close()
	}
	s.outputs, s.stdin, s.pty = nil, nil, nil
}

// logsJSON: the runtimes podman passes --log-format=json to (containers.conf runtime_supports_json), unless
// the caller chose a log already.
func logsJSON(runtime string, args []string) bool {
	for _, a := range args {
		if a == "--log" || strings.HasPrefix(a, "--log=") || a == "--log-format" || strings.HasPrefix(a, "--log-format=") {
			return false
		}
	}
	switch filepath.Base(runtime) {
	case "crun", "runc", "runsc", "youki", "krun", "crun-wasm", "crun-vm":
		return true
	}
	return strings.HasPrefix(filepath.Base(runtime), "kata")
}

// runtimeMessage reads the runtime's JSON log for its error messages.
func runtimeMessage(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var msgs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct{ Msg, Level string }
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Msg == "" {
			continue
		}
		if e.Level == "error" || e.Level == "fatal" || e.Level == "panic" {
			msgs = append(msgs, e.Msg)
		}
	}
	return strings.Join(msgs, "\n")
}

func readPIDFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("the runtime left no pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("bad pid file %s: %q", path, data)
	}
	return pid, nil
}

// drainNow reads what f has buffered without waiting.
func drainNow(f *os.File) []byte {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	var out []byte
	buf := make([]byte, chunkSize)
	_ = rc.Read(func(fd uintptr) bool {
		for {
			n, err := unix.Read(int(fd), buf)
			if n > 0 {
				out = append(out, buf[:n]...)
				continue
			}
			if err == unix.EINTR {
				continue
			}
			return true
		}
	})
	return out
}

// copyOrdered copies stdout and stderr from one loop, reading them in that order whenever both have data,
// as conmon's single event loop does: two goroutines would race, and a line the container wrote to stdout
// before one to stderr could be logged after it.
func (s *supervisor) copyOrdered(files []*os.File, streams []byte) {
	defer s.copies.Done()
	pfds := make([]unix.PollFd, len(files))
	for i, f := range files {
		rc, err := f.SyscallConn()
		if err != nil {
			pfds[i].Fd = -1
			continue
		}
		_ = rc.Control(func(fd uintptr) { pfds[i].Fd = int32(fd) })
		pfds[i].Events = unix.POLLIN
	}
	buf := make([]byte, chunkSize)
	open := 0
	for _, p := range pfds {
		if p.Fd >= 0 {
			open++
		}
	}
	for open > 0 {
		if by := s.drainBy.Load(); by != 0 && time.Now().UnixNano() > by {
			return
		}
		n, err := unix.Poll(pfds, 100)
		if err != nil && err != unix.EINTR {
			return
		}
		if n <= 0 {
			continue
		}
		for i := range pfds {
			if pfds[i].Fd < 0 || pfds[i].Revents == 0 {
				continue
			}
			r, err := unix.Read(int(pfds[i].Fd), buf)
			if r > 0 {
				s.hub.output(streams[i], buf[:r])
				continue
			}
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			pfds[i].Fd = -1 // end of this stream
			open--
		}
	}
}

// copyOutput copies one output of the container to the log and the attach clients, a read (at most
// chunkSize bytes) at a time, until it ends. A pty master reports the end as EIO.
func (s *supervisor) copyOutput(f *os.File, stream byte) {
	defer s.copies.Done()
	buf := make([]byte, chunkSize)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			s.hub.output(stream, buf[:n])
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// Out of time: take what is buffered and stop.
				rest := drainNow(f)
				for len(rest) > 0 {
					k := min(len(rest), chunkSize)
					s.hub.output(stream, rest[:k])
					rest = rest[k:]
				}
			}
			return
		}
	}
}

// waitContainer reaps children until the container's init is among them. SIGTERM, SIGINT and SIGQUIT are
// forwarded to the container (as conmon does); SIGUSR1 reopens the log.
func (s *supervisor) waitContainer(sigs chan os.Signal) unix.WaitStatus {
	for {
		if ws, ok := s.reap(); ok {
			return ws
		}
		switch sig := <-sigs; sig {
		case unix.SIGTERM, unix.SIGINT, unix.SIGQUIT:
			_ = unix.Kill(s.pid, sig.(syscall.Signal))
		case unix.SIGUSR1:
			s.hub.reopenLog()
		}
	}
}

// reap collects every exited child; ok when the container's init was one.
func (s *supervisor) reap() (status unix.WaitStatus, ok bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return status, ok
		}
		if pid == s.pid {
			status, ok = ws, true
		}
	}
}

func exitCode(ws unix.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 255
}

// finish records the exit and hands over to the exit command.
func (s *supervisor) finish(ws unix.WaitStatus) int {
	info := &shim.ExitInfo{ExitCode: exitCode(ws), FinishedAt: time.Now()}
	info.OOMKilled = s.oom.killed()

	// The output ends at once in the usual case; give it a bounded while otherwise.
	deadline := time.Now().Add(drainTimeout)
	s.drainBy.Store(deadline.UnixNano())
	for _, f := range s.outputs {
		_ = f.SetReadDeadline(deadline)
	}
	s.copies.Wait()
	s.hub.closeLog()

	var errs []string
	if err := shim.WriteExit(s.cfg.RunDir, info); err != nil {
		errs = append(errs, fmt.Sprintf("writing the exit file: %v", err))
	}
	s.hub.shutdown(info.ExitCode)
	s.closeListener()
	s.closeOutputs()
	s.reap() // anything else that died meanwhile

	if len(errs) > 0 {
		fmt.Fprintln(os.Stderr, "skiff-shim:", strings.Join(errs, "; "))
	}
	if len(s.cfg.ExitCommand) == 0 || shim.CleanupClaimed(s.cfg.RunDir) {
		return 0
	}
	return execExitCommand(s.cfg.ExitCommand, s.cfg.ExitCommandEnv)
}

// execExitCommand replaces the shim with argv, its stdio on /dev/null. It returns only on failure.
func execExitCommand(argv, env []string) int {
	path := argv[0]
	if !strings.Contains(path, "/") {
		p, err := exec.LookPath(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "skiff-shim: exit command: %v\n", err)
			return 1
		}
		path = p
	}
	// The exit command is not the container's supervisor: it must not inherit our subreaper role or
	// our ignored signals (execve keeps both).
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	signal.Reset()
	stderr, _ := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 3)
	if fd, err := unix.Open(os.DevNull, unix.O_RDWR, 0); err == nil {
		for i := 0; i < 3; i++ {
			_ = unix.Dup3(fd, i, 0)
		}
		if fd > 2 {
			unix.Close(fd)
		}
	}
	err := syscall.Exec(path, argv, append(os.Environ(), env...))
	if stderr > 0 {
		fmt.Fprintf(os.NewFile(uintptr(stderr), "stderr"), "skiff-shim: exec exit command %q: %v\n", argv, err)
	}
	return 1
}
