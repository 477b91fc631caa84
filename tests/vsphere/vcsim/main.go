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
// test can kill the simulator while a call is in flight.
package main

import (
	"crypto/tls"
	"encoding/pem"
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
)

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

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, password)}
	model.Service.TLS = new(tls.Config)
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
