package chtest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/shiplens/shiplens/internal/chserver"
	"github.com/shiplens/shiplens/internal/chserver/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

func TestServerIsSharedAndDatabasesAreFresh(t *testing.T) {
	if os.Getenv("CHTEST_CHILD") != "" {
		t.Skip("runs only in the parent test process")
	}
	addr := chtest.Server(t)
	if again := chtest.Server(t); again != addr {
		t.Fatalf("second Server() = %s, want the shared %s", again, addr)
	}

	var dbA string
	t.Run("a", func(t *testing.T) {
		conn, db := chtest.Conn(t)
		dbA = db
		ctx := context.Background()
		// The connection's default database is the fresh one.
		var current string
		if err := conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&current); err != nil || current != db {
			t.Fatalf("currentDatabase() = %q, %v; want %q", current, err, db)
		}
		if err := conn.Exec(ctx, "CREATE TABLE t (x UInt8) ENGINE = MergeTree() ORDER BY x"); err != nil {
			t.Fatal(err)
		}
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO t (x)")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if err := batch.Append(uint8(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := batch.Send(); err != nil {
			t.Fatal(err)
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM t").Scan(&n); err != nil || n != 10 {
			t.Fatalf("count = %d, %v", n, err)
		}
	})
	t.Run("b", func(t *testing.T) {
		a, db := chtest.DB(t)
		if a != addr || db == dbA || !strings.HasPrefix(db, "t_") {
			t.Fatalf("DB() = %s, %s; want shared %s and a new name (not %s)", a, db, addr, dbA)
		}
	})

	// Subtest a's database was dropped in its cleanup.
	conn, err := chserver.Connect(context.Background(), addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var exists uint8
	if err := conn.QueryRow(context.Background(), "SELECT count() > 0 FROM system.databases WHERE name = ?", dbA).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists != 0 {
		t.Fatalf("database %s still exists after its test ended", dbA)
	}
}

func TestEnvAddrOverrides(t *testing.T) {
	t.Setenv(chtest.EnvAddr, "127.0.0.1:1")
	if got := chtest.Server(t); got != "127.0.0.1:1" {
		t.Fatalf("Server() with %s set = %s", chtest.EnvAddr, got)
	}
}

// TestChildMissingBinary is run by TestMissingBinary in a child process with
// no server binary available.
func TestChildMissingBinary(t *testing.T) {
	if os.Getenv("CHTEST_CHILD") == "" {
		t.Skip("runs only as TestMissingBinary's child")
	}
	chtest.Server(t)
	t.Log("CHILD-GOT-A-SERVER")
}

func TestMissingBinary(t *testing.T) {
	if os.Getenv("CHTEST_CHILD") != "" {
		t.Skip("runs only in the parent test process")
	}
	for _, ci := range []string{"false", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChildMissingBinary$", "-test.v")
		cmd.Env = append(os.Environ(),
			"CHTEST_CHILD=1",
			"CI="+ci,
			chserver.EnvBinary+"=/nonexistent/clickhouse-server",
			chtest.EnvAddr+"=",
		)
		out, err := cmd.CombinedOutput()
		text := string(out)
		if !strings.Contains(text, "apt-get install clickhouse-server") || !strings.Contains(text, "make test") {
			t.Errorf("CI=%s: output lacks install instructions:\n%s", ci, text)
		}
		if strings.Contains(text, "CHILD-GOT-A-SERVER") {
			t.Errorf("CI=%s: test went on without a server:\n%s", ci, text)
		}
		switch ci {
		case "false":
			if err != nil || !strings.Contains(text, "--- SKIP: TestChildMissingBinary") {
				t.Errorf("CI=false: want a skip, got err %v:\n%s", err, text)
			}
		case "true":
			if err == nil || !strings.Contains(text, "--- FAIL: TestChildMissingBinary") {
				t.Errorf("CI=true: want a failure, got err %v:\n%s", err, text)
			}
		}
	}
}
