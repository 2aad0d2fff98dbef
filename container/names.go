package container

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"

	"github.com/skiff-dev/skiff/store"
)

// NewID returns a random 64-hex container id. Like Docker, it never returns
// an all-digit id, whose short form could be read as a number.
func NewID() string {
	b := make([]byte, 32)
	for {
		if _, err := rand.Read(b); err != nil {
			panic(fmt.Sprintf("container id: %v", err)) // the kernel's RNG does not fail
		}
		id := hex.EncodeToString(b)
		for _, r := range id[:12] {
			if r > '9' {
				return id
			}
		}
	}
}

func validID(s string) bool { return len(s) == 64 && isHex(s) }

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// validName is Docker's rule for container and volume names,
// ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$, by hand: package init stays free of
// regexp compiling, since every supervisor runs it.
func validName(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || (r != '_' && r != '.' && r != '-')) {
			return false
		}
	}
	return true
}

// ValidateName checks a user-given name (without the leading "/").
func ValidateName(name string) error {
	if !validName(name) {
		return store.Invalid("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	return nil
}

// GenerateName returns an unused adjective_surname name, as Docker does,
// adding a random digit after a few collisions. taken reports a name in use.
func GenerateName(taken func(string) bool) string {
	for i := 0; ; i++ {
		name := adjectives[randN(len(adjectives))] + "_" + surnames[randN(len(surnames))]
		if name == "boring_wozniak" { // Steve Wozniak is not boring (Docker's rule)
			continue
		}
		if i > 10 {
			name += fmt.Sprint(randN(10))
		}
		if taken == nil || !taken(name) {
			return name
		}
	}
}

func randN(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(fmt.Sprintf("container name: %v", err))
	}
	return int(v.Int64())
}

var adjectives = []string{
	"admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome",
	"beautiful", "blissful", "bold", "boring", "brave", "busy", "calm", "charming",
	"clever", "compassionate", "competent", "condescending", "confident", "cool",
	"cranky", "crazy", "dazzling", "determined", "distracted", "dreamy", "eager",
	"ecstatic", "elastic", "elated", "elegant", "eloquent", "epic", "exciting",
	"fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny",
	"gallant", "gifted", "goofy", "gracious", "great", "happy", "hardcore",
	"heuristic", "hopeful", "hungry", "infallible", "inspiring", "intelligent",
	"interesting", "jolly", "jovial", "keen", "kind", "laughing", "loving", "lucid",
	"magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice",
	"nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic",
	"pensive", "practical", "priceless", "quirky", "quizzical", "recursing",
	"relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly",
	"sleepy", "stoic", "strange", "stupefied", "suspicious", "sweet", "tender",
	"thirsty", "trusting", "unruffled", "upbeat", "vibrant", "vigilant",
	"vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous",
	"zen",
}

// surnames are scientists and engineers, as in Docker's list.
var surnames = []string{
	"agnesi", "albattani", "allen", "almeida", "archimedes", "ardinghelli",
	"babbage", "banach", "bardeen", "bartik", "bell", "benz", "bhabha",
	"blackwell", "bohr", "booth", "borg", "bose", "brahmagupta", "brattain",
	"brown", "buck", "burnell", "cannon", "carson", "cartwright", "cerf",
	"chandrasekhar", "chaplygin", "chatelet", "chatterjee", "cohen", "colden",
	"cori", "cray", "curie", "darwin", "davinci", "dijkstra", "dirac", "einstein",
	"elion", "engelbart", "euclid", "euler", "faraday", "fermat", "fermi",
	"feynman", "franklin", "galileo", "gauss", "goldberg", "goodall", "haibt",
	"hamilton", "hawking", "heisenberg", "hertz", "hodgkin", "hofstadter",
	"hopper", "hypatia", "jackson", "jang", "jennings", "johnson", "kalam",
	"kepler", "khorana", "kilby", "knuth", "kowalevski", "lalande", "lamarr",
	"leakey", "leavitt", "lovelace", "lumiere", "mayer", "mccarthy", "mclean",
	"meitner", "mendel", "mirzakhani", "morse", "napier", "newton", "nobel",
	"noether", "pare", "pascal", "pasteur", "payne", "perlman", "pike",
	"poincare", "ptolemy", "raman", "ramanujan", "ritchie", "rosalind",
	"shannon", "shockley", "sinoussi", "stonebraker", "swanson", "tesla",
	"thompson", "torvalds", "turing", "varahamihira", "wiles", "williams",
	"wilson", "wing", "wozniak", "wright", "yalow", "yonath", "zhukovsky",
}
