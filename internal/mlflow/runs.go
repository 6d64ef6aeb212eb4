package mlflow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of metrics/get-history-bulk-interval (MLflow's handlers.py).
const (
	MaxRunsBulkInterval      = 100
	MaxResultsPerRunBulk     = 2500
	MaxResultsMetricHistory  = 25000
	MaxDatasetNameLength     = 500
	MaxDatasetDigestLength   = 36
	MaxDatasetSchemaLength   = 1048575
	MaxDatasetSourceLength   = 65535
	MaxDatasetProfileLength  = 16777215
	MaxInputTagKeyLength     = 255
	MaxInputTagValueLength   = 500
	RunArtifactsFolder       = "artifacts"
	DatasetContextTag        = "mlflow.data.context"
	maxStoredFloatMagnitude  = math.MaxFloat64
	runNameRandomSuffixLimit = 1000
)

// RunNotActive is MLflow's error for writing to a deleted run.
func RunNotActive(id, stage string) *Error {
	return InvalidParam("The run %s must be in the 'active' state. Current state is %s.", id, stage)
}

// ExperimentNotActive is MLflow's error for creating a run in a deleted experiment.
func ExperimentNotActive(id, stage string) *Error {
	return InvalidParam("The experiment %s must be in the 'active' state. Current state is %s.", id, stage)
}

// StoredMetricValue is what MLflow's SQL store writes for a metric value:
// NaN becomes 0 with the is_nan flag, infinities are clamped to ±MaxFloat64.
func StoredMetricValue(v float64) (value float64, isNaN bool) {
	switch {
	case math.IsNaN(v):
		return 0, true
	case math.IsInf(v, 1):
		return maxStoredFloatMagnitude, false
	case math.IsInf(v, -1):
		return -maxStoredFloatMagnitude, false
	}
	return v, false
}

// ParamChange is one rejected attempt to change a logged param.
type ParamChange struct {
	Key, Old, New string
}

// ParamChangeError is the rejection of a param write that would change a
// logged value. It unwraps to the *Error with log-batch's message;
// SingleMessage gives log-parameter's.
type ParamChangeError struct {
	RunID   string
	Changes []ParamChange
}

func (e *ParamChangeError) Error() string { return e.Unwrap().Error() }

// Unwrap is the batch form of the error, as runs/log-batch answers it.
func (e *ParamChangeError) Unwrap() error {
	parts := make([]string, len(e.Changes))
	for i, c := range e.Changes {
		parts[i] = fmt.Sprintf("{'key': %s, 'old_value': %s, 'new_value': %s}", PyRepr(c.Key), PyRepr(c.Old), PyRepr(c.New))
	}
	return InvalidParam("Changing param values is not allowed. Params were already logged='[%s]' for run ID='%s'.", strings.Join(parts, ", "), e.RunID)
}

// Single is the error as runs/log-parameter answers it (first change).
func (e *ParamChangeError) Single() *Error {
	c := e.Changes[0]
	return InvalidParam("Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run ID='%s'. Attempted logging new value '%s'.", c.Key, c.Old, e.RunID, c.New)
}

// PyRepr writes a string as Python's repr() does, for messages that
// quote values as MLflow's do.
func PyRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == ' ' || (r < utf8.RuneSelf && r > 0x20 && r < 0x7f) || (r >= 0x7f && unicode.IsPrint(r)):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// ValidateMetricKey checks a metric name; field names the request field
// ("name" for log-metric, "metrics[3].name" for log-batch).
func ValidateMetricKey(key, field string) error {
	if err := ValidateKey(key, field); err != nil {
		return err
	}
	return ValidateLength("Metric name", key, MaxEntityKeyLength)
}

// ValidateParamKey checks a param key given in the request field field.
func ValidateParamKey(key, field string) error {
	if err := ValidateKey(key, field); err != nil {
		return err
	}
	return ValidateLength("Param key", key, MaxEntityKeyLength)
}

// ValidateRunTagKey checks a run tag key given in the request field field.
func ValidateRunTagKey(key, field string) error {
	if err := ValidateKey(key, field); err != nil {
		return err
	}
	return ValidateLength("Tag key", key, MaxEntityKeyLength)
}

// BatchLimits checks log-batch's counts with MLflow's messages.
func BatchLimits(metrics, params, tags int) error {
	check := func(what string, limit, n int) error {
		if n > limit {
			return InvalidParam("A batch logging request can contain at most %d %s. Got %d %s. Please split up %s across multiple requests and try again.", limit, what, n, what, what)
		}
		return nil
	}
	if err := check("metrics", MaxMetricsPerBatch, metrics); err != nil {
		return err
	}
	if err := check("params", MaxParamsTagsPerBatch, params); err != nil {
		return err
	}
	if err := check("tags", MaxParamsTagsPerBatch, tags); err != nil {
		return err
	}
	return check("metrics, params, and tags", MaxEntitiesPerBatch, metrics+params+tags)
}

// UniqueParamKeys is MLflow's check that a batch names each param once.
func UniqueParamKeys(params []Tag) error {
	seen := make(map[string]bool, len(params))
	var dupes []string
	for _, p := range params {
		if seen[p.Key] {
			dupes = append(dupes, PyRepr(p.Key))
		}
		seen[p.Key] = true
	}
	if len(dupes) > 0 {
		return InvalidParam("Duplicate parameter keys have been submitted: [%s]. Please ensure the request contains only one param value per param key.", strings.Join(dupes, ", "))
	}
	return nil
}

// ValidateDataset checks a dataset's field lengths as MLflow does.
func ValidateDataset(d Dataset) error {
	checks := []struct {
		what  string
		v     string
		limit int
	}{
		{"Dataset name", d.Name, MaxDatasetNameLength},
		{"Dataset digest", d.Digest, MaxDatasetDigestLength},
		{"Dataset schema", d.Schema, MaxDatasetSchemaLength},
		{"Dataset source", d.Source, MaxDatasetSourceLength},
		{"Dataset profile", d.Profile, MaxDatasetProfileLength},
	}
	for _, c := range checks {
		if err := ValidateLength(c.what, c.v, c.limit); err != nil {
			return err
		}
	}
	return nil
}

// ValidateInputTag checks a dataset input tag's lengths.
func ValidateInputTag(t Tag) error {
	if err := ValidateLength("Input tag key", t.Key, MaxInputTagKeyLength); err != nil {
		return err
	}
	return ValidateLength("Input tag value", t.Value, MaxInputTagValueLength)
}

// GenerateRunName makes a name like MLflow's generated ones:
// "<adjective>-<noun>-<number>".
func GenerateRunName() string {
	return fmt.Sprintf("%s-%s-%d", nameAdjectives[rand.IntN(len(nameAdjectives))],
		nameNouns[rand.IntN(len(nameNouns))], rand.IntN(runNameRandomSuffixLimit))
}

var nameAdjectives = strings.Fields(`agreeable amazing angry auspicious awesome bedecked bold brawny bright
bustling calm capable carefree casual charming chill classy clean clever colorful
crawling dapper debonair defiant delicate enchanting entertaining enthused fearless
flawless fortunate funny gaudy gentle gifted glamorous grandiose gregarious handsome
hilarious honorable illustrious incongruous indecisive industrious intelligent
inquisitive invincible judicious kindly languid learned legendary likeable loud
luminous luxuriant lyrical magnificent marvelous masked melodic merciful mercurial
monumental mysterious nebulous nimble nosy omniscient orderly overjoyed peaceful
painted persistent placid polite popular powerful puzzled rambunctious rare rebellious
respected resilient righteous receptive redolent resilient rogue rumbling salty
sassy secretive selective sedate serious shivering skillful sincere skittish silent
smiling sneaky sophisticated spiffy stately suave stylish tasteful thoughtful
thundering traveling treasured trusting unequaled upbeat unique unleashed useful
valuable vaunted victorious welcoming whimsical wise worried youthful zealous`)

var nameNouns = strings.Fields(`ant ape asp auk bass bat bear bee bird boar bug calf carp cat chimp cod colt
conch cow crab crane croc crow cub deer doe dog dolphin donkey dove duck eel elk fawn
finch fish flea fly foal fowl fox frog gnat gnu goat goose grouse grub gull hare hawk
hen hog horse hound jay kit kite koi lamb lark loon lynx mare midge mink mole moose
moth mouse mule newt owl ox panda penguin perch pig pug quail ram rat ray robin roo
rook seal shad shark sheep shoat shrew shrike shrimp skink skunk sloth slug smelt
snail snake snipe sow sponge squid squirrel stag steed stoat stork swan tern toad
trout turtle vole wasp whale wolf worm wren yak zebra`)
