package ops

import "testing"

func TestProgressBar(t *testing.T) {
	cases := map[float64]string{
		0:    "[..........]",
		9.99: "[..........]",
		10:   "[#.........]",
		75:   "[#######...]",
		100:  "[##########]",
		120:  "[##########]",
		-5:   "[..........]",
	}
	for percent, want := range cases {
		if got := progressBar(percent, 10); got != want {
			t.Errorf("progressBar(%v) = %s, want %s", percent, got, want)
		}
	}
}

func TestByteSize(t *testing.T) {
	cases := map[int64]string{
		0:          "0 B",
		1023:       "1023 B",
		1024:       "1.0 KiB",
		6144:       "6.0 KiB",
		1536 << 20: "1.5 GiB",
		1 << 40:    "1.0 TiB",
		4 << 50:    "4.0 PiB",
		4096 << 50: "4096.0 PiB",
	}
	for n, want := range cases {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %s, want %s", n, got, want)
		}
	}
}
