package order

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/money"
	"github.com/chronicle-es/chronicle/internal/payment"
	"github.com/chronicle-es/chronicle/internal/process"
	"github.com/chronicle-es/chronicle/internal/stock"
)

// FulfilmentName names the fulfilment process manager (its projection is
// "process:fulfilment").
const FulfilmentName = "fulfilment"

// DeadlinePayment is the kind of the payment time-out deadline.
const DeadlinePayment = "ORDER_PAYMENT_TIMEOUT"

// Outbox command names of the fulfilment process.
const (
	sendReserve       = "stock.Reserve"
	sendCommit        = "stock.Commit"
	sendRelease       = "stock.Release"
	sendInitiate      = "payment.Initiate"
	sendFailPayment   = "payment.Fail"
	sendStockReserved = "order.StockReserved"
	sendAwait         = "order.AwaitPayment"
	sendPaid          = "order.Paid"
	sendReject        = "order.Reject"
	sendCancel        = "order.Cancel"
)

// Fulfilment is the state of one order's fulfilment process (stored as
// JSON in process_states).
type Fulfilment struct {
	Placed       bool   `json:"placed,omitempty"`
	OrderID      string `json:"orderId,omitempty"`
	Lines        []Line `json:"lines,omitempty"`
	Total        int64  `json:"total,omitempty"`
	Currency     string `json:"currency,omitempty"`
	Customer     string `json:"customer,omitempty"`
	Email        string `json:"email,omitempty"`
	Organization string `json:"organization,omitempty"`
	// Reservations by product id: "held", "committed", "releasing".
	Reservations map[string]string `json:"reservations,omitempty"`
	// PaymentRequested: InitiatePayment is sent; PaymentID once it is seen.
	PaymentRequested bool   `json:"paymentRequested,omitempty"`
	PaymentID        string `json:"paymentId,omitempty"`
	Paid             bool   `json:"paid,omitempty"`
	PaymentFailed    bool   `json:"paymentFailed,omitempty"`
	// Closing: the order is (being) rejected or cancelled: every
	// reservation that appears is released, any payment failed.
	Closing bool `json:"closing,omitempty"`
}

type reserveCmd struct {
	ProductID string `json:"productId"`
	OrderID   string `json:"orderId"`
	Quantity  int64  `json:"quantity,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

type initiateCmd struct {
	OrderID  string `json:"orderId"`
	Customer string `json:"customer"`
	Email    string `json:"email"`
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

type orderCmd struct {
	OrderID   string `json:"orderId"`
	PaymentID string `json:"paymentId,omitempty"`
	Reason    Reason `json:"reason,omitempty"`
	Reason2   string `json:"note,omitempty"`
}

// Fulfilment's reactions. Every step is idempotent against a repeated
// fact: it looks at the state before it sends.
func fulfilmentStep(timeout time.Duration) func(Fulfilment, process.Event) (Fulfilment, process.Effects) {
	return func(s Fulfilment, ev process.Event) (Fulfilment, process.Effects) {
		var eff process.Effects
		if s.Placed && ev.Metadata.Tenant != s.Organization {
			return s, eff // another organization's event naming this order's id
		}
		if s.Reservations == nil {
			s.Reservations = map[string]string{}
		}
		switch e := ev.Data.(type) {
		case OrderPlaced:
			if s.Placed {
				return s, eff
			}
			s.Placed, s.OrderID, s.Lines, s.Total, s.Currency = true, e.OrderID, e.Lines, e.Total, e.Currency
			s.Customer, s.Email, s.Organization = e.CustomerName, e.CustomerEmail, e.Organization
			for _, l := range e.Lines {
				eff.Send = append(eff.Send, process.Send{Step: "reserve:" + l.ProductID, Command: sendReserve,
					Payload: reserveCmd{ProductID: l.ProductID, OrderID: e.OrderID, Quantity: l.Quantity}})
			}
		case stock.StockReserved:
			s.Reservations[e.ProductID] = "held"
			if s.Closing {
				s.release(&eff, e.ProductID)
				return s, eff
			}
			if s.Placed && !s.PaymentRequested && s.allHeld() {
				s.PaymentRequested = true
				eff.Send = append(eff.Send,
					process.Send{Step: "stock-reserved", Command: sendStockReserved, Payload: orderCmd{OrderID: s.OrderID}},
					process.Send{Step: "initiate-payment", Command: sendInitiate, Payload: initiateCmd{
						OrderID: s.OrderID, Customer: s.Customer, Email: s.Email,
						Amount: money.FormatAmount(s.Total, money.StoredCurrency(s.Currency)), Currency: s.Currency,
					}})
			}
		case stock.ReservationCommitted:
			s.Reservations[e.ProductID] = "committed"
		case stock.ReservationReleased:
			s.Reservations[e.ProductID] = "released"
		case payment.PaymentInitiated:
			s.PaymentID = e.PaymentID
			if s.Closing {
				s.failPayment(&eff, "order "+s.OrderID+" was cancelled")
				return s, eff
			}
			eff.Send = append(eff.Send, process.Send{Step: "await", Command: sendAwait, Payload: orderCmd{OrderID: s.OrderID, PaymentID: e.PaymentID}})
			eff.Set = append(eff.Set, process.Deadline{Kind: DeadlinePayment, DueAt: ev.RecordedAt.Add(timeout)})
		case payment.PaymentProcessed:
			s.Paid = true
			eff.Clear = append(eff.Clear, DeadlinePayment)
			if s.Closing {
				// Processed while the cancellation's FailPayment was on its
				// way: the order stays cancelled and its stock released;
				// the payment is left for a refund (not automated).
				return s, eff
			}
			for _, pid := range s.held() {
				s.Reservations[pid] = "committing"
				eff.Send = append(eff.Send, process.Send{Step: "commit:" + pid, Command: sendCommit, Payload: reserveCmd{ProductID: pid, OrderID: s.OrderID}})
			}
			eff.Send = append(eff.Send, process.Send{Step: "paid", Command: sendPaid, Payload: orderCmd{OrderID: s.OrderID}})
		case payment.PaymentFailed:
			s.PaymentFailed = true
			eff.Clear = append(eff.Clear, DeadlinePayment)
			if !s.Closing {
				s.close(&eff, "cancel", orderCmd{OrderID: s.OrderID, Reason: ReasonPaymentFailed}, "payment failed")
			}
		case OrderRejected, OrderCancelled:
			if !s.Closing {
				s.close(&eff, "", orderCmd{}, "order "+s.OrderID+" was closed")
			}
		}
		return s, eff
	}
}

// close starts rejecting or cancelling: sends the order command (when
// given a step), releases every held reservation, and fails the payment.
func (s *Fulfilment) close(eff *process.Effects, step string, cmd orderCmd, why string) {
	s.Closing = true
	if step != "" {
		name := sendCancel
		if cmd.Reason == ReasonOutOfStock {
			name = sendReject
		}
		eff.Send = append(eff.Send, process.Send{Step: step, Command: name, Payload: cmd})
	}
	for _, pid := range s.held() {
		s.release(eff, pid)
	}
	s.failPayment(eff, why)
	eff.Clear = append(eff.Clear, DeadlinePayment)
}

func (s *Fulfilment) release(eff *process.Effects, pid string) {
	s.Reservations[pid] = "releasing"
	eff.Send = append(eff.Send, process.Send{Step: "release:" + pid, Command: sendRelease, Payload: reserveCmd{ProductID: pid, OrderID: s.OrderID, Reason: "order closed"}})
}

// failPayment fails the order's payment once, if one is known and neither
// processed nor failed.
func (s *Fulfilment) failPayment(eff *process.Effects, why string) {
	if s.PaymentID == "" || s.Paid || s.PaymentFailed {
		return
	}
	s.PaymentFailed = true
	eff.Send = append(eff.Send, process.Send{Step: "fail-payment", Command: sendFailPayment, Payload: orderCmd{OrderID: s.OrderID, PaymentID: s.PaymentID, Reason2: why}})
}

// held returns the product ids with a held reservation, sorted (steps are
// deterministic).
func (s *Fulfilment) held() []string {
	var out []string
	for pid, st := range s.Reservations {
		if st == "held" {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Fulfilment) allHeld() bool {
	for _, l := range s.Lines {
		if s.Reservations[l.ProductID] != "held" {
			return false
		}
	}
	return true
}

// onDeadline cancels an order still awaiting its payment.
func onDeadline(s Fulfilment, kind string, _ time.Time) (Fulfilment, process.Effects) {
	var eff process.Effects
	if kind != DeadlinePayment || s.Closing || s.Paid || !s.Placed {
		return s, eff
	}
	s.close(&eff, "timeout", orderCmd{OrderID: s.OrderID, Reason: ReasonPaymentTimeout}, "payment timed out")
	return s, eff
}

// onRefused: a refused reservation rejects the order (OUT_OF_STOCK);
// other refusals are facts the events already tell (a cancel that lost to
// a payment, a release of a reservation already released).
func onRefused(s Fulfilment, c process.Command, err error) (Fulfilment, process.Effects) {
	var eff process.Effects
	if c.Name != sendReserve || s.Closing || !stock.IsRefusal(err) {
		return s, eff
	}
	s.close(&eff, "reject", orderCmd{OrderID: s.OrderID, Reason: ReasonOutOfStock}, "out of stock")
	return s, eff
}

// routeFulfilment picks the events of orders, of stock reservations for
// orders and of payments for orders; the process id is the order id.
func routeFulfilment(e eventstore.RecordedEvent) (string, aggregate.Event, bool, error) {
	switch e.StreamType {
	case Type.StreamType:
	case stock.Type.StreamType:
		if e.Type == stock.EventStockRestocked {
			return "", nil, false, nil
		}
		return decodeFor(stock.Type.Decode, e)
	case payment.Type.StreamType:
		if e.Type == payment.EventPaymentRefunded {
			return "", nil, false, nil
		}
		return decodeFor(payment.Type.Decode, e)
	default:
		return "", nil, false, nil
	}
	if e.Type == EventOrderShipped {
		return "", nil, false, nil
	}
	d, err := Type.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return "", nil, false, err
	}
	return e.StreamID.String(), d, true, nil
}

// decodeFor decodes another context's event and routes it by its order id
// (events without one are ignored).
func decodeFor(decode func(string, int, []byte) (aggregate.Event, error), e eventstore.RecordedEvent) (string, aggregate.Event, bool, error) {
	d, err := decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return "", nil, false, err
	}
	var orderID string
	switch v := d.(type) {
	case stock.StockReserved:
		orderID = v.OrderID
	case stock.ReservationCommitted:
		orderID = v.OrderID
	case stock.ReservationReleased:
		orderID = v.OrderID
	case payment.PaymentInitiated:
		orderID = v.OrderID
	case payment.PaymentProcessed:
		orderID = v.OrderID
	case payment.PaymentFailed:
		orderID = v.OrderID
	}
	return orderID, d, orderID != "", nil
}

// Senders are the command handlers the fulfilment process sends through.
type Senders struct {
	Orders   *command.Handler[Order, View]
	Stock    *command.Handler[stock.Stock, stock.View]
	Payments *command.Handler[payment.Payment, payment.View]
	// Personal opens the customer's sealed name and e-mail, which the
	// process keeps sealed in its state and outbox, just before they go
	// into the payment's command (nil: they are passed on as they are).
	Personal ValueOpener
}

// ValueOpener opens sealed values in place, for an organization
// (datasubject.Keys.OpenValues on the pool).
type ValueOpener func(ctx context.Context, organization string, values ...*string) error

// dispatch decodes an outbox row and sends it through its context.
func (s Senders) dispatch(ctx context.Context, c process.Command, opts command.Options) error {
	var err error
	switch c.Name {
	case sendReserve, sendCommit, sendRelease:
		var r reserveCmd
		if err := json.Unmarshal(c.Payload, &r); err != nil {
			return fmt.Errorf("decode %s: %w", c.Name, err)
		}
		switch c.Name {
		case sendReserve:
			_, err = s.Stock.Handle(ctx, stock.ReserveStock{ProductID: r.ProductID, OrderID: r.OrderID, Quantity: r.Quantity}, opts)
		case sendCommit:
			_, err = s.Stock.Handle(ctx, stock.CommitReservation{ProductID: r.ProductID, OrderID: r.OrderID}, opts)
		default:
			_, err = s.Stock.Handle(ctx, stock.ReleaseReservation{ProductID: r.ProductID, OrderID: r.OrderID, Reason: r.Reason}, opts)
		}
	case sendInitiate:
		var p initiateCmd
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			return fmt.Errorf("decode %s: %w", c.Name, err)
		}
		if s.Personal != nil {
			if err := s.Personal(ctx, opts.Caller.Organization, &p.Customer, &p.Email); err != nil {
				return fmt.Errorf("open the customer's data: %w", err)
			}
		}
		_, err = s.Payments.Handle(ctx, payment.InitiatePayment{CustomerName: p.Customer, CustomerEmail: p.Email,
			Amount: p.Amount, Currency: p.Currency, OrderID: p.OrderID}, opts)
	default:
		var o orderCmd
		if err := json.Unmarshal(c.Payload, &o); err != nil {
			return fmt.Errorf("decode %s: %w", c.Name, err)
		}
		var cmd command.Command[Order]
		switch c.Name {
		case sendFailPayment:
			_, err = s.Payments.Handle(ctx, payment.FailPayment{ID: o.PaymentID, Reason: o.Reason2}, opts)
			return err
		case sendStockReserved:
			cmd = MarkStockReserved{ID: o.OrderID}
		case sendAwait:
			cmd = AwaitPayment{ID: o.OrderID, PaymentID: o.PaymentID}
		case sendPaid:
			cmd = MarkPaid{ID: o.OrderID}
		case sendReject:
			cmd = RejectOrder{ID: o.OrderID}
		case sendCancel:
			cmd = CancelOrder{ID: o.OrderID, Reason: o.Reason}
		default:
			return errors.New("unknown fulfilment command " + c.Name)
		}
		_, err = s.Orders.Handle(ctx, cmd, opts)
	}
	return err
}

// NewFulfilment returns the fulfilment process manager: it sends through
// senders and cancels orders that await their payment longer than
// paymentTimeout.
func NewFulfilment(senders Senders, paymentTimeout time.Duration, cfg process.Config) *process.Manager {
	return process.New(process.Definition[Fulfilment]{
		Name:  FulfilmentName,
		Route: routeFulfilment,
		// What routeFulfilment picks from.
		StreamTypes: []string{Type.StreamType, stock.Type.StreamType, payment.Type.StreamType},
		Handle:      fulfilmentStep(paymentTimeout),
		OnDeadline:  onDeadline,
		OnRefused:   onRefused,
		Dispatch:    senders.dispatch,
	}, cfg)
}
