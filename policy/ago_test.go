package policy

import (
	"errors"
	"testing"
	"time"
)

func TestParseAgo(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "0d", want: 0},
		{in: "1d", want: day},
		{in: "30d", want: 30 * day},
		{in: "2d3h6m", want: 2*day + 3*time.Hour + 6*time.Minute},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "90m", want: 90 * time.Minute},
		{in: "0", want: 0},
		{in: "1d0s", want: day},
		{in: "54750d", want: MaxAgo},                   // exactly 150 years
		{in: "54751d", want: MaxAgo},                   // capped
		{in: "99999999999999999999999d", want: MaxAgo}, // beyond uint64
		{in: "9999999999999h", want: MaxAgo},           // beyond time.Duration
		{in: "54750d1h", want: MaxAgo},                 // the sum is capped
		{in: "1000000d1000000h", want: MaxAgo},
		{in: "", bad: true},
		{in: "d", bad: true},
		{in: "-1d", bad: true},
		{in: "-5h", bad: true},
		{in: "1d-5h", bad: true},
		{in: "1.5d", bad: true},
		{in: "1dd", bad: true},
		{in: "2w", bad: true},
		{in: "abc", bad: true},
		{in: "1d 2h", bad: true},
		{in: "1h1d", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAgo(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("ParseAgo(%q) = %v, %v; want an ErrInvalid", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseAgo(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParseAgo(f *testing.F) {
	for _, s := range []string{"0d", "2d3h6m", "1.5h", "54751d", "9999999999999h", "-1d", "1d-1h", ".5h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAgo(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseAgo(%q): error %v is not ErrInvalid", s, err)
			}
			return
		}
		if d < 0 || d > MaxAgo {
			t.Fatalf("ParseAgo(%q) = %v, outside [0, MaxAgo]", s, d)
		}
	})
}
