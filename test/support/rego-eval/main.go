// Evaluates the Rego of kube-harden's Gatekeeper ConstraintTemplate (templates/registries/gatekeeper-template.yaml)
// on admission inputs, for test/unit/steps/registries-native-rego.test.ts: reads {"rego": "...", "inputs": [...]}
// on stdin and prints, per input, the violation messages as a JSON array. OPA v0.70.0, Rego v0 syntax (what
// Gatekeeper's `rego` field takes). Build: `go build -o /tmp/rego-eval .` here; then
// KUBE_HARDEN_REGO_EVAL=/tmp/rego-eval npx vitest run --project unit test/unit/steps/registries-native-rego.test.ts
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/open-policy-agent/opa/rego"
)

func main() {
	var req struct {
		Rego   string        `json:"rego"`
		Inputs []interface{} `json:"inputs"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	pq, err := rego.New(rego.Query("data.kubehardenallowedrepos.violation"), rego.Module("t.rego", req.Rego), rego.StrictBuiltinErrors(true)).PrepareForEval(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	out := [][]string{}
	for _, in := range req.Inputs {
		rs, err := pq.Eval(ctx, rego.EvalInput(in))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		msgs := []string{}
		for _, r := range rs {
			for _, e := range r.Expressions {
				for _, v := range e.Value.([]interface{}) {
					msgs = append(msgs, v.(map[string]interface{})["msg"].(string))
				}
			}
		}
		out = append(out, msgs)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
