/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment PaymentFields on Payment {\n    id\n    customerName\n    customerEmail\n    amount { amount currency }\n    refunded { amount currency }\n    refundable { amount currency }\n    status\n    failureReason\n    initiatedAt\n    updatedAt\n    version\n  }\n": typeof types.PaymentFieldsFragmentDoc,
    "\n  fragment TotalsFields on PaymentTotals {\n    payments\n    byStatus { status count }\n    byCurrency {\n      currency\n      payments\n      processedCount\n      processedTotal { amount }\n      processedAverage { amount }\n      refundedCount\n      refundedTotal { amount }\n      refundedAverage { amount }\n    }\n  }\n": typeof types.TotalsFieldsFragmentDoc,
    "\n  subscription DashboardAnalytics($last: Duration!, $bucket: AnalyticsBucket!) {\n    paymentAnalyticsUpdated(last: $last, bucket: $bucket) {\n      from\n      to\n      bucket\n      totals { ...TotalsFields }\n      series { start totals { payments byStatus { status count } } }\n    }\n  }\n": typeof types.DashboardAnalyticsDocument,
    "\n  query LatestPayments($first: Int!) {\n    payments(first: $first) {\n      edges { node { ...PaymentFields } }\n    }\n  }\n": typeof types.LatestPaymentsDocument,
    "\n  subscription WatchPayment($id: ID!) {\n    paymentUpdated(id: $id) { ...PaymentFields }\n  }\n": typeof types.WatchPaymentDocument,
    "\n  mutation InitiatePayment($input: InitiatePaymentInput!) {\n    initiatePayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n": typeof types.InitiatePaymentDocument,
    "\n  mutation ProcessPayment($input: ProcessPaymentInput!) {\n    processPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n": typeof types.ProcessPaymentDocument,
    "\n  mutation FailPayment($input: FailPaymentInput!) {\n    failPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n": typeof types.FailPaymentDocument,
    "\n  mutation RefundPayment($input: RefundPaymentInput!) {\n    refundPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n": typeof types.RefundPaymentDocument,
    "\n  fragment AccountFields on Account {\n    id\n    owner\n    currency\n    balance { amount currency }\n    status\n    version\n    openedAt\n  }\n": typeof types.AccountFieldsFragmentDoc,
    "\n  query Accounts($first: Int!) {\n    accounts(first: $first) { edges { node { ...AccountFields } } }\n  }\n": typeof types.AccountsDocument,
    "\n  subscription WatchAccount($id: ID!) {\n    accountUpdated(id: $id) { ...AccountFields }\n  }\n": typeof types.WatchAccountDocument,
    "\n  subscription AccountOperations($id: ID!, $after: String) {\n    accountOperations(id: $id, after: $after) {\n      cursor\n      node {\n        kind\n        amount { amount currency }\n        balanceAfter { amount }\n        description\n        version\n        recordedAt\n      }\n    }\n  }\n": typeof types.AccountOperationsDocument,
    "\n  query AccountHistory($id: ID!) {\n    accountHistory(id: $id, first: 100) {\n      edges { node { eventId position version type recordedAt payload metadata { actor } } }\n    }\n  }\n": typeof types.AccountHistoryDocument,
    "\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": typeof types.OpenAccountDocument,
    "\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": typeof types.CreditAccountDocument,
    "\n  mutation DebitAccount($input: DebitAccountInput!) {\n    debitAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": typeof types.DebitAccountDocument,
};
const documents: Documents = {
    "\n  fragment PaymentFields on Payment {\n    id\n    customerName\n    customerEmail\n    amount { amount currency }\n    refunded { amount currency }\n    refundable { amount currency }\n    status\n    failureReason\n    initiatedAt\n    updatedAt\n    version\n  }\n": types.PaymentFieldsFragmentDoc,
    "\n  fragment TotalsFields on PaymentTotals {\n    payments\n    byStatus { status count }\n    byCurrency {\n      currency\n      payments\n      processedCount\n      processedTotal { amount }\n      processedAverage { amount }\n      refundedCount\n      refundedTotal { amount }\n      refundedAverage { amount }\n    }\n  }\n": types.TotalsFieldsFragmentDoc,
    "\n  subscription DashboardAnalytics($last: Duration!, $bucket: AnalyticsBucket!) {\n    paymentAnalyticsUpdated(last: $last, bucket: $bucket) {\n      from\n      to\n      bucket\n      totals { ...TotalsFields }\n      series { start totals { payments byStatus { status count } } }\n    }\n  }\n": types.DashboardAnalyticsDocument,
    "\n  query LatestPayments($first: Int!) {\n    payments(first: $first) {\n      edges { node { ...PaymentFields } }\n    }\n  }\n": types.LatestPaymentsDocument,
    "\n  subscription WatchPayment($id: ID!) {\n    paymentUpdated(id: $id) { ...PaymentFields }\n  }\n": types.WatchPaymentDocument,
    "\n  mutation InitiatePayment($input: InitiatePaymentInput!) {\n    initiatePayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n": types.InitiatePaymentDocument,
    "\n  mutation ProcessPayment($input: ProcessPaymentInput!) {\n    processPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n": types.ProcessPaymentDocument,
    "\n  mutation FailPayment($input: FailPaymentInput!) {\n    failPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n": types.FailPaymentDocument,
    "\n  mutation RefundPayment($input: RefundPaymentInput!) {\n    refundPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n": types.RefundPaymentDocument,
    "\n  fragment AccountFields on Account {\n    id\n    owner\n    currency\n    balance { amount currency }\n    status\n    version\n    openedAt\n  }\n": types.AccountFieldsFragmentDoc,
    "\n  query Accounts($first: Int!) {\n    accounts(first: $first) { edges { node { ...AccountFields } } }\n  }\n": types.AccountsDocument,
    "\n  subscription WatchAccount($id: ID!) {\n    accountUpdated(id: $id) { ...AccountFields }\n  }\n": types.WatchAccountDocument,
    "\n  subscription AccountOperations($id: ID!, $after: String) {\n    accountOperations(id: $id, after: $after) {\n      cursor\n      node {\n        kind\n        amount { amount currency }\n        balanceAfter { amount }\n        description\n        version\n        recordedAt\n      }\n    }\n  }\n": types.AccountOperationsDocument,
    "\n  query AccountHistory($id: ID!) {\n    accountHistory(id: $id, first: 100) {\n      edges { node { eventId position version type recordedAt payload metadata { actor } } }\n    }\n  }\n": types.AccountHistoryDocument,
    "\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": types.OpenAccountDocument,
    "\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": types.CreditAccountDocument,
    "\n  mutation DebitAccount($input: DebitAccountInput!) {\n    debitAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": types.DebitAccountDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PaymentFields on Payment {\n    id\n    customerName\n    customerEmail\n    amount { amount currency }\n    refunded { amount currency }\n    refundable { amount currency }\n    status\n    failureReason\n    initiatedAt\n    updatedAt\n    version\n  }\n"): (typeof documents)["\n  fragment PaymentFields on Payment {\n    id\n    customerName\n    customerEmail\n    amount { amount currency }\n    refunded { amount currency }\n    refundable { amount currency }\n    status\n    failureReason\n    initiatedAt\n    updatedAt\n    version\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TotalsFields on PaymentTotals {\n    payments\n    byStatus { status count }\n    byCurrency {\n      currency\n      payments\n      processedCount\n      processedTotal { amount }\n      processedAverage { amount }\n      refundedCount\n      refundedTotal { amount }\n      refundedAverage { amount }\n    }\n  }\n"): (typeof documents)["\n  fragment TotalsFields on PaymentTotals {\n    payments\n    byStatus { status count }\n    byCurrency {\n      currency\n      payments\n      processedCount\n      processedTotal { amount }\n      processedAverage { amount }\n      refundedCount\n      refundedTotal { amount }\n      refundedAverage { amount }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardAnalytics($last: Duration!, $bucket: AnalyticsBucket!) {\n    paymentAnalyticsUpdated(last: $last, bucket: $bucket) {\n      from\n      to\n      bucket\n      totals { ...TotalsFields }\n      series { start totals { payments byStatus { status count } } }\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardAnalytics($last: Duration!, $bucket: AnalyticsBucket!) {\n    paymentAnalyticsUpdated(last: $last, bucket: $bucket) {\n      from\n      to\n      bucket\n      totals { ...TotalsFields }\n      series { start totals { payments byStatus { status count } } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LatestPayments($first: Int!) {\n    payments(first: $first) {\n      edges { node { ...PaymentFields } }\n    }\n  }\n"): (typeof documents)["\n  query LatestPayments($first: Int!) {\n    payments(first: $first) {\n      edges { node { ...PaymentFields } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WatchPayment($id: ID!) {\n    paymentUpdated(id: $id) { ...PaymentFields }\n  }\n"): (typeof documents)["\n  subscription WatchPayment($id: ID!) {\n    paymentUpdated(id: $id) { ...PaymentFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation InitiatePayment($input: InitiatePaymentInput!) {\n    initiatePayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n"): (typeof documents)["\n  mutation InitiatePayment($input: InitiatePaymentInput!) {\n    initiatePayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ProcessPayment($input: ProcessPaymentInput!) {\n    processPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n"): (typeof documents)["\n  mutation ProcessPayment($input: ProcessPaymentInput!) {\n    processPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation FailPayment($input: FailPaymentInput!) {\n    failPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n"): (typeof documents)["\n  mutation FailPayment($input: FailPaymentInput!) {\n    failPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefundPayment($input: RefundPaymentInput!) {\n    refundPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n"): (typeof documents)["\n  mutation RefundPayment($input: RefundPaymentInput!) {\n    refundPayment(input: $input) { paymentId payment { ...PaymentFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AccountFields on Account {\n    id\n    owner\n    currency\n    balance { amount currency }\n    status\n    version\n    openedAt\n  }\n"): (typeof documents)["\n  fragment AccountFields on Account {\n    id\n    owner\n    currency\n    balance { amount currency }\n    status\n    version\n    openedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Accounts($first: Int!) {\n    accounts(first: $first) { edges { node { ...AccountFields } } }\n  }\n"): (typeof documents)["\n  query Accounts($first: Int!) {\n    accounts(first: $first) { edges { node { ...AccountFields } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WatchAccount($id: ID!) {\n    accountUpdated(id: $id) { ...AccountFields }\n  }\n"): (typeof documents)["\n  subscription WatchAccount($id: ID!) {\n    accountUpdated(id: $id) { ...AccountFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AccountOperations($id: ID!, $after: String) {\n    accountOperations(id: $id, after: $after) {\n      cursor\n      node {\n        kind\n        amount { amount currency }\n        balanceAfter { amount }\n        description\n        version\n        recordedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription AccountOperations($id: ID!, $after: String) {\n    accountOperations(id: $id, after: $after) {\n      cursor\n      node {\n        kind\n        amount { amount currency }\n        balanceAfter { amount }\n        description\n        version\n        recordedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AccountHistory($id: ID!) {\n    accountHistory(id: $id, first: 100) {\n      edges { node { eventId position version type recordedAt payload metadata { actor } } }\n    }\n  }\n"): (typeof documents)["\n  query AccountHistory($id: ID!) {\n    accountHistory(id: $id, first: 100) {\n      edges { node { eventId position version type recordedAt payload metadata { actor } } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"): (typeof documents)["\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"): (typeof documents)["\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DebitAccount($input: DebitAccountInput!) {\n    debitAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"): (typeof documents)["\n  mutation DebitAccount($input: DebitAccountInput!) {\n    debitAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;