package smtpsink

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a self-signed certificate for 127.0.0.1, ::1 and localhost, made
// for one test.
type Cert struct {
	// Server is a TLS config that presents the certificate; pass it to
	// WithSTARTTLS or WithImplicitTLS.
	Server *tls.Config
	// Pool holds the certificate as the only trusted root.
	Pool *x509.CertPool
	// PEM is the certificate, PEM-encoded.
	PEM []byte
	// CAFile is a file holding PEM, for settings such as ca_file.
	CAFile string
}

// SelfSignedCert makes a fresh self-signed certificate valid for an hour
// around now, and writes it to a file in t.TempDir().
func SelfSignedCert(t testing.TB) *Cert {
	t.Helper()
	c, err := NewCert(t.TempDir(), "smtpsink test server", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewCert makes a fresh self-signed certificate named name, for the host
// names and addresses given, valid for an hour around now, and writes it to
// a file in dir.
func NewCert(dir, name string, hosts []string, ips []net.IP) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("smtpsink: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("smtpsink: serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           ips,
		DNSNames:              hosts,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("smtpsink: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("smtpsink: parse certificate: %w", err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	caFile := filepath.Join(dir, "test-ca.pem")
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		return nil, fmt.Errorf("smtpsink: write %s: %w", caFile, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &Cert{
		Server: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
			MinVersion:   tls.VersionTLS12,
		},
		Pool:   pool,
		PEM:    pemBytes,
		CAFile: caFile,
	}, nil
}
