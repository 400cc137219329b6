package libpod

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
)

// Random names in podman's adjective_surname style, for containers created without --name.
var (
	nameLeft = []string{
		"admiring", "amazing", "blissful", "bold", "brave", "busy", "charming", "clever", "cool", "dazzling",
		"determined", "eager", "ecstatic", "elegant", "epic", "focused", "friendly", "gallant", "gifted", "happy",
		"hopeful", "inspiring", "jolly", "keen", "kind", "laughing", "lucid", "magical", "modest", "nice",
		"nifty", "optimistic", "peaceful", "practical", "quirky", "relaxed", "serene", "sharp", "stoic", "trusting",
		"upbeat", "vibrant", "wizardly", "youthful", "zealous",
	}
	nameRight = []string{
		"agnesi", "babbage", "bardeen", "bell", "blackwell", "bohr", "cerf", "curie", "darwin", "dijkstra",
		"einstein", "euler", "faraday", "fermat", "feynman", "franklin", "galileo", "gauss", "goodall", "hamilton",
		"hawking", "hopper", "hypatia", "johnson", "kepler", "knuth", "lamarr", "lovelace", "maxwell", "meitner",
		"mendel", "newton", "noether", "pascal", "payne", "ritchie", "shannon", "thompson", "torvalds", "turing",
		"wilson", "wing", "wozniak", "yalow", "zhukovsky",
	}
)

func randomIndex(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

// randomName returns adjective_surname.
func randomName() string {
	return nameLeft[randomIndex(len(nameLeft))] + "_" + nameRight[randomIndex(len(nameRight))]
}

// newID returns a 64-hex container ID that does not look like a number (podman avoids all-digit short IDs,
// which some tools take for a pid).
func newID() string {
	for {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
		id := hex.EncodeToString(b)
		for _, c := range id[:12] {
			if c > '9' {
				return id
			}
		}
	}
}

// NewExecSessionID names an exec session (podman prints one for exec --detach).
func NewExecSessionID() string { return newID() }
