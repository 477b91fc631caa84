// gitdisc-vcsim: govmomi's vCenter simulator (Debian's
// golang-github-vmware-govmomi-dev) serving the default VPX model on
// loopback with TLS, for gitdisc's vSphere provider tests. Built offline with
// Debian's Go (GOPATH=/usr/share/gocode GO111MODULE=off); see
// tests/vsphere/build-vcsim.sh.
//
// It writes "HOST:PORT" to -addr-file once it listens, the server
// certificate (PEM) to -cert-file, and serves until SIGTERM/SIGINT. The
// login is -user with the password read from -password-file (never from the
// command line). -delay METHOD=MS (repeatable) slows a SOAP method down, so a
// test can kill the simulator while a call is in flight; -powered-off NAME
// (repeatable) starts that VM of the model powered off.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type names map[string]bool

func (n names) String() string { return fmt.Sprint(map[string]bool(n)) }

func (n names) Set(v string) error {
	n[v] = true
	return nil
}

type delays map[string]int

func (d delays) String() string { return fmt.Sprint(map[string]int(d)) }

func (d delays) Set(v string) error {
	parts := strings.SplitN(v, "=", 2)
	if len(parts) != 2 {
		return fmt.Errorf("want METHOD=MS, got %q", v)
	}
	ms, err := strconv.Atoi(parts[1])
	if err != nil || ms < 0 {
		return fmt.Errorf("bad delay %q", v)
	}
	d[parts[0]] = ms
	return nil
}

// A self-signed P-256 certificate for 127.0.0.1 and localhost: the
// simulator's built-in test certificate has a 1024-bit RSA key, which
// OpenSSL's default security level refuses.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "gitdisc-vcsim"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback only)")
	user := flag.String("user", "gitdisc", "the login user")
	passwordFile := flag.String("password-file", "", "file holding the login password (required)")
	addrFile := flag.String("addr-file", "", "write HOST:PORT here once listening")
	certFile := flag.String("cert-file", "", "write the server certificate (PEM) here")
	datastores := flag.Int("datastores", 1, "datastores in the model")
	machines := flag.Int("vms", 2, "VMs per host in the model")
	slow := delays{}
	flag.Var(slow, "delay", "METHOD=MS: delay a SOAP method (repeatable)")
	off := names{}
	flag.Var(off, "powered-off", "a VM of the model to start powered off (repeatable)")
	flag.Parse()

	if !strings.HasPrefix(*listen, "127.") && !strings.HasPrefix(*listen, "[::1]") &&
		!strings.HasPrefix(*listen, "localhost:") {
		log.Fatalf("refusing to listen on %s: loopback only", *listen)
	}
	if *passwordFile == "" {
		log.Fatal("-password-file is required")
	}
	pw, err := ioutil.ReadFile(*passwordFile)
	if err != nil {
		log.Fatalf("reading the password file: %v", err)
	}
	password := strings.TrimRight(string(pw), "\r\n")

	model := simulator.VPX()
	model.Datastore = *datastores
	model.Machine = *machines
	model.DelayConfig.MethodDelay = slow
	if err := model.Create(); err != nil {
		log.Fatalf("creating the model: %v", err)
	}
	defer model.Remove()
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok && off[vm.Name] {
			vm.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOff
			vm.Summary.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOff
		}
	}

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, password)}
	cert, err := selfSigned()
	if err != nil {
		log.Fatalf("making the certificate: %v", err)
	}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	server := model.Service.NewServer()
	defer server.Close()

	if *certFile != "" {
		block := &pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw}
		if err := ioutil.WriteFile(*certFile, pem.EncodeToMemory(block), 0644); err != nil {
			log.Fatalf("writing the certificate: %v", err)
		}
	}
	if *addrFile != "" {
		tmp := *addrFile + ".tmp"
		if err := ioutil.WriteFile(tmp, []byte(server.URL.Host+"\n"), 0644); err != nil {
			log.Fatalf("writing the address: %v", err)
		}
		if err := os.Rename(tmp, *addrFile); err != nil {
			log.Fatalf("writing the address: %v", err)
		}
	}
	fmt.Fprintf(os.Stderr, "gitdisc-vcsim: listening on https://%s/sdk\n", server.URL.Host)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
