package image

import (
	"net/http"
	"testing"
)

type okTransport struct{}

func (okTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200}, nil
}

func TestHTTPGuard(t *testing.T) {
	tests := []struct {
		url      string
		insecure bool
		ok       bool
	}{
		{"https://10.0.0.1/v2/", false, true},
		{"http://10.0.0.1/v2/", false, false},
		{"http://192.168.1.5:5000/v2/", false, false},
		{"http://10.0.0.1/v2/", true, true},
		{"http://127.0.0.1:5000/v2/", false, true},
		{"http://localhost:5000/v2/", false, true},
		{"http://registry.example.com/v2/", false, false},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		_, err := httpGuard{base: okTransport{}, insecure: tc.insecure}.RoundTrip(req)
		if (err == nil) != tc.ok {
			t.Errorf("%s insecure=%v: err = %v", tc.url, tc.insecure, err)
		}
	}
}
