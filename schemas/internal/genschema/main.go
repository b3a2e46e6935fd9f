// Command genschema writes the JSON Schema of the canonical event,
// schemas.EventJSONSchema, built from the field table of package schemas.
// `go generate ./schemas` runs it to refresh schemas/event.schema.json; it
// must not hold any rule of its own.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/shiplens/shiplens/schemas"
)

func main() {
	out := flag.String("o", "event.schema.json", "file to write")
	flag.Parse()
	if err := os.WriteFile(*out, schemas.EventJSONSchema(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "genschema: cannot write the event schema: %v\n", err)
		os.Exit(1)
	}
}
