// Every GraphQL operation the app sends. GraphQL Code Generator types them
// from ../schema.graphqls (src/gql/); a document that does not match the
// schema fails `npm run codegen` and so `make web`.
import { graphql } from '../gql';

export const PaymentFields = graphql(`
  fragment PaymentFields on Payment {
    id
    customerName
    customerEmail
    amount { amount currency }
    refunded { amount currency }
    refundable { amount currency }
    status
    failureReason
    initiatedAt
    updatedAt
    version
  }
`);

export const TotalsFields = graphql(`
  fragment TotalsFields on PaymentTotals {
    payments
    byStatus { status count }
    byCurrency {
      currency
      payments
      processedCount
      processedTotal { amount }
      processedAverage { amount }
      refundedCount
      refundedTotal { amount }
      refundedAverage { amount }
    }
  }
`);

export const AnalyticsSubscription = graphql(`
  subscription DashboardAnalytics($last: Duration!, $bucket: AnalyticsBucket!) {
    paymentAnalyticsUpdated(last: $last, bucket: $bucket) {
      from
      to
      bucket
      totals { ...TotalsFields }
      series { start totals { payments byStatus { status count } } }
    }
  }
`);

export const LatestPaymentsQuery = graphql(`
  query LatestPayments($first: Int!) {
    payments(first: $first) {
      edges { node { ...PaymentFields } }
    }
  }
`);

export const PaymentSubscription = graphql(`
  subscription WatchPayment($id: ID!) {
    paymentUpdated(id: $id) { ...PaymentFields }
  }
`);

export const InitiatePayment = graphql(`
  mutation InitiatePayment($input: InitiatePaymentInput!) {
    initiatePayment(input: $input) { paymentId payment { ...PaymentFields } }
  }
`);

export const ProcessPayment = graphql(`
  mutation ProcessPayment($input: ProcessPaymentInput!) {
    processPayment(input: $input) { paymentId payment { ...PaymentFields } }
  }
`);

export const FailPayment = graphql(`
  mutation FailPayment($input: FailPaymentInput!) {
    failPayment(input: $input) { paymentId payment { ...PaymentFields } }
  }
`);

export const RefundPayment = graphql(`
  mutation RefundPayment($input: RefundPaymentInput!) {
    refundPayment(input: $input) { paymentId payment { ...PaymentFields } }
  }
`);

export const AccountFields = graphql(`
  fragment AccountFields on Account {
    id
    owner
    currency
    balance { amount currency }
    status
    version
    openedAt
  }
`);

export const AccountsQuery = graphql(`
  query Accounts($first: Int!) {
    accounts(first: $first) { edges { node { ...AccountFields } } }
  }
`);

export const AccountSubscription = graphql(`
  subscription WatchAccount($id: ID!) {
    accountUpdated(id: $id) { ...AccountFields }
  }
`);

export const OperationsSubscription = graphql(`
  subscription AccountOperations($id: ID!, $after: String) {
    accountOperations(id: $id, after: $after) {
      cursor
      node {
        kind
        amount { amount currency }
        balanceAfter { amount }
        description
        version
        recordedAt
      }
    }
  }
`);

export const HistoryQuery = graphql(`
  query AccountHistory($id: ID!) {
    accountHistory(id: $id, first: 100) {
      edges { node { eventId position version type recordedAt payload metadata { actor } } }
    }
  }
`);

export const OpenAccount = graphql(`
  mutation OpenAccount($input: OpenAccountInput!) {
    openAccount(input: $input) { accountId account { ...AccountFields } }
  }
`);

export const CreditAccount = graphql(`
  mutation CreditAccount($input: CreditAccountInput!) {
    creditAccount(input: $input) { accountId account { ...AccountFields } }
  }
`);

export const DebitAccount = graphql(`
  mutation DebitAccount($input: DebitAccountInput!) {
    debitAccount(input: $input) { accountId account { ...AccountFields } }
  }
`);
