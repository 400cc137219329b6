// Package define holds the error kinds and constants shared by the engine and the CLI. The CLI maps kinds to
// exit codes; everything else wraps them with context: fmt.Errorf("container %q: %w", name, ErrNoSuchCtr).
package define

import "errors"

var (
	// ErrNoSuchImage: no local image matches the name or ID.
	ErrNoSuchImage = errors.New("image not known")
	// ErrInvalidArg: the user's input is wrong; nothing was changed.
	ErrInvalidArg = errors.New("invalid argument")
	// ErrImageInUse: the image backs a container.
	ErrImageInUse = errors.New("image is in use by a container")
	// ErrNoSuchCtr: no container matches the name, ID or ID prefix.
	ErrNoSuchCtr = errors.New("no such container")
	// ErrCtrStateInvalid: the container is in the wrong state for the operation.
	ErrCtrStateInvalid = errors.New("container state improper")
	// ErrCtrExists: the name is taken.
	ErrCtrExists = errors.New("container already exists")
	// ErrCannotStart: the container's process cannot be set up (missing workdir, unknown user): exit 126.
	ErrCannotStart = errors.New("cannot start the container process")
	// ErrRootless: the operation needs root, or a host setup that rootless lacks.
	ErrRootless = errors.New("not supported for rootless users")
)

// Exit codes shared with podman and docker.
const (
	ExitEngine        = 125 // skiff itself failed
	ExitCannotInvoke  = 126 // the container command cannot be invoked
	ExitCommandNotFnd = 127 // the container command was not found
)
