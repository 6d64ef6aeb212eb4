package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// option is one flag of a command line: its names, the environment
// variable that sets it when the flag is not given, and how --help shows
// it.
type option struct {
	group   string
	name    string // the long name, written --name
	short   string // a one-letter shorthand, written -s ("" for none)
	env     string // "" for a flag with no environment variable
	metavar string // the value's placeholder in --help; "" for a switch
	usage   string
	def     string // the default as --help shows it ("" shows none)
}

// options is a flag.FlagSet whose flags also read their environment
// variable, strictly: a value that does not parse is an error at start-up,
// never a silent fall-back to the default.
type options struct {
	fs     *flag.FlagSet
	list   []option
	groups []string // in --help order
	envErr []error
}

func newOptions(name string, groups ...string) *options {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Errors are returned, and --help printed, by parse: the flag
	// package's own messages name flags with one dash.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &options{fs: fs, groups: groups}
}

// env returns the environment value of o, if set and not empty (as click
// reads envvar options: an empty value is no value).
func (s *options) env(o option) (string, bool) {
	if o.env == "" {
		return "", false
	}
	v, ok := os.LookupEnv(o.env)
	return v, ok && v != ""
}

func (s *options) add(o option) {
	if !slices.Contains(s.groups, o.group) {
		panic("unknown option group " + o.group)
	}
	s.list = append(s.list, o)
}

// fromEnv parses the environment value of o with parse when set; the
// error names the variable, its value and the flag.
func fromEnv[T any](s *options, o option, def T, parse func(string) (T, error)) T {
	v, ok := s.env(o)
	if !ok {
		return def
	}
	x, err := parse(v)
	if err != nil {
		s.envErr = append(s.envErr, fmt.Errorf("%s=%q (--%s): %v", o.env, v, o.name, err))
		return def
	}
	return x
}

func (s *options) names(o option) []string {
	if o.short != "" {
		return []string{o.name, o.short}
	}
	return []string{o.name}
}

func (s *options) String(p *string, o option, def string) {
	s.add(o)
	v := fromEnv(s, o, def, func(v string) (string, error) { return v, nil })
	for _, n := range s.names(o) {
		s.fs.StringVar(p, n, v, o.usage)
	}
}

func (s *options) Bool(p *bool, o option, def bool) {
	s.add(o)
	v := fromEnv(s, o, def, parseBool)
	for _, n := range s.names(o) {
		s.fs.BoolVar(p, n, v, o.usage)
	}
}

func (s *options) Int(p *int, o option, def int) {
	s.add(o)
	v := fromEnv(s, o, def, func(v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, errors.New("not an integer")
		}
		return n, nil
	})
	for _, n := range s.names(o) {
		s.fs.IntVar(p, n, v, o.usage)
	}
}

func (s *options) Int64(p *int64, o option, def int64) {
	s.add(o)
	v := fromEnv(s, o, def, func(v string) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, errors.New("not an integer")
		}
		return n, nil
	})
	for _, n := range s.names(o) {
		s.fs.Int64Var(p, n, v, o.usage)
	}
}

func (s *options) Float64(p *float64, o option, def float64) {
	s.add(o)
	v := fromEnv(s, o, def, func(v string) (float64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, errors.New("not a number")
		}
		return f, nil
	})
	for _, n := range s.names(o) {
		s.fs.Float64Var(p, n, v, o.usage)
	}
}

func (s *options) Duration(p *time.Duration, o option, def time.Duration) {
	s.add(o)
	v := fromEnv(s, o, def, func(v string) (time.Duration, error) {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return 0, errors.New("not a duration (e.g. 30s, 5m, 1h)")
		}
		return d, nil
	})
	for _, n := range s.names(o) {
		s.fs.DurationVar(p, n, v, o.usage)
	}
}

// parseBool reads a boolean as click does for MLflow's options: 1/0,
// true/false, t/f, yes/no, y/n, on/off, in any case.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "t", "yes", "y", "on":
		return true, nil
	case "0", "false", "f", "no", "n", "off":
		return false, nil
	}
	return false, errors.New("not a boolean (true/false, 1/0, yes/no, on/off)")
}

// singleDashLong finds the flag package's "-name" for a long flag in its
// error messages ("flag needs an argument: -port").
var singleDashLong = regexp.MustCompile(`(^|[ :])-([a-z][a-z0-9-]+)`)

// errHelp is returned by parse after --help was printed.
var errHelp = flag.ErrHelp

// parse reads args after the environment: an environment value that does
// not parse, a flag that does not, an unknown flag and any argument that is
// not a flag are errors. --help prints the help to stdout.
func (s *options) parse(args []string, header string, stdout io.Writer) error {
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			s.help(stdout, header)
			return errHelp
		}
		// The flag package writes "-name"; the help and the docs write
		// "--name".
		msg := singleDashLong.ReplaceAllString(err.Error(), "$1--$2")
		return fmt.Errorf("%s (%s --help lists the flags)", msg, s.fs.Name())
	}
	if s.fs.NArg() > 0 {
		// Go's flag parsing stops at the first argument that is not a
		// flag: whatever follows would be silently ignored.
		return fmt.Errorf("unexpected argument %q: %s takes only flags (%s --help lists them)", s.fs.Arg(0), s.fs.Name(), s.fs.Name())
	}
	if len(s.envErr) > 0 {
		return fmt.Errorf("environment: %w", errors.Join(s.envErr...))
	}
	return nil
}

// help prints the options by group, GNU style: "-p, --port PORT", the
// usage, then the environment variable and the default.
func (s *options) help(w io.Writer, header string) {
	fmt.Fprint(w, header)
	for _, g := range s.groups {
		first := true
		for _, o := range s.list {
			if o.group != g {
				continue
			}
			if first {
				fmt.Fprintf(w, "\n%s:\n", g)
				first = false
			}
			left := "--" + o.name
			if o.short != "" {
				left = "-" + o.short + ", " + left
			} else {
				left = "    " + left
			}
			if o.metavar != "" {
				left += " " + o.metavar
			}
			fmt.Fprintf(w, "  %s\n", left)
			for _, l := range wrap(o.usage, 72) {
				fmt.Fprintf(w, "        %s\n", l)
			}
			var extra []string
			if o.env != "" {
				extra = append(extra, "env: "+o.env)
			}
			if o.def != "" {
				extra = append(extra, "default: "+o.def)
			}
			if len(extra) > 0 {
				fmt.Fprintf(w, "        [%s]\n", strings.Join(extra, "; "))
			}
		}
	}
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
