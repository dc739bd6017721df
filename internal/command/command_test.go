package command_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/command"
)

// trace records what decorators saw, in order.
type trace struct {
	mu       sync.Mutex
	steps    []string
	infos    []command.Info
	outcomes []command.Outcome
}

func (tr *trace) add(step string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.steps = append(tr.steps, step)
}

// decorator records its name before and after the command, with the Info
// and the Outcome it saw.
func (tr *trace) decorator(name string) command.Decorator {
	return func(info command.Info, next command.Run) command.Run {
		return func(ctx context.Context) (command.Outcome, error) {
			tr.add(name + " before")
			out, err := next(ctx)
			tr.mu.Lock()
			tr.steps = append(tr.steps, fmt.Sprintf("%s after (err %v)", name, err))
			tr.infos = append(tr.infos, info)
			tr.outcomes = append(tr.outcomes, out)
			tr.mu.Unlock()
			return out, err
		}
	}
}

func TestPipelineRunsDecoratorsInOrderAroundTheCommand(t *testing.T) {
	t.Parallel()
	var tr trace
	f := newNotes(t, upToDate, command.NewPipeline(tr.decorator("outer"), tr.decorator("inner")), nil)
	ctx := context.Background()

	res, err := f.handler.Handle(ctx, writeNote{Text: "x"}, command.Options{Caller: acme})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"outer before", "inner before", "inner after (err <nil>)", "outer after (err <nil>)"}
	if !reflect.DeepEqual(tr.steps, want) {
		t.Fatalf("steps %q, want %q", tr.steps, want)
	}
	wantInfo := command.Info{Context: "note", Command: "WriteNote", StreamID: res.ID, Caller: acme, Source: command.SourceAPI}
	for i := range 2 {
		if !reflect.DeepEqual(tr.infos[i], wantInfo) {
			t.Fatalf("decorator saw %+v, want %+v", tr.infos[i], wantInfo)
		}
		if tr.outcomes[i] != res.Outcome || !tr.outcomes[i].UpToDate || tr.outcomes[i].Position == 0 {
			t.Fatalf("decorator saw outcome %+v, the result is %+v", tr.outcomes[i], res.Outcome)
		}
	}

	// A process manager's command names its source; a domain error passes
	// through the decorators unchanged.
	tr = trace{}
	_, err = f.handler.Handle(ctx, editNote{ID: res.ID.String(), Text: "y"}, command.Options{Caller: acme, Source: "process:sync"})
	if err != nil {
		t.Fatal(err)
	}
	if tr.infos[0].Source != "process:sync" || tr.infos[0].Command != "EditNote" || tr.infos[0].StreamID != res.ID {
		t.Fatalf("decorator saw %+v", tr.infos[0])
	}
	tr = trace{}
	other := acme
	other.Organization = "globex"
	_, err = f.handler.Handle(ctx, editNote{ID: res.ID.String(), Text: "y"}, command.Options{Caller: other})
	if !errors.Is(err, errNoteNotFound) {
		t.Fatalf("err %v, want the domain error", err)
	}
	if len(tr.steps) != 4 || tr.steps[3] != "outer after (err note not found)" || tr.outcomes[1] != (command.Outcome{}) {
		t.Fatalf("steps %q, outcomes %+v", tr.steps, tr.outcomes)
	}
}

func TestPipelineDecoratorRefusalAppendsNothing(t *testing.T) {
	t.Parallel()
	errLimited := apperr.New(apperr.Code("RATE_LIMITED"), "rate limited")
	var tr trace
	refuse := func(info command.Info, next command.Run) command.Run {
		return func(ctx context.Context) (command.Outcome, error) {
			tr.add("refuse " + info.Command)
			return command.Outcome{}, errLimited
		}
	}
	f := newNotes(t, upToDate, command.NewPipeline(tr.decorator("outer"), refuse, tr.decorator("inner")), nil)
	res, err := f.handler.Handle(context.Background(), writeNote{Text: "x"}, command.Options{Caller: acme})
	if !errors.Is(err, errLimited) || res.View != nil || res.Position != 0 {
		t.Fatalf("Handle = %+v, %v; want the decorator's refusal", res, err)
	}
	want := []string{"outer before", "refuse WriteNote", "outer after (err rate limited)"}
	if !reflect.DeepEqual(tr.steps, want) {
		t.Fatalf("steps %q, want %q", tr.steps, want)
	}
	if n := f.events(t); n != 0 {
		t.Fatalf("%d events appended, want none", n)
	}
}

func TestPipelineZeroValueRunsUndecorated(t *testing.T) {
	for _, p := range []*command.Pipeline{nil, {}, command.NewPipeline()} {
		out, err := p.Run(context.Background(), command.Info{}, func(context.Context) (command.Outcome, error) {
			return command.Outcome{Position: 7}, nil
		})
		if err != nil || out.Position != 7 {
			t.Fatalf("Run = %+v, %v", out, err)
		}
	}
}

func TestValidIdempotencyKey(t *testing.T) {
	for _, key := range []string{"", "k", "0192f3a4-5b6c-7d8e-9f00-112233445566", "clé-ü"} {
		if err := command.ValidIdempotencyKey(key); err != nil {
			t.Errorf("ValidIdempotencyKey(%q) = %v", key, err)
		}
	}
}
