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
    "\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": typeof types.OpenAccountDocument,
    "\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": typeof types.CreditAccountDocument,
    "\n  mutation DebitAccount($input: DebitAccountInput!) {\n    debitAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": typeof types.DebitAccountDocument,
    "\n  fragment LastChangeFields on LastChange {\n    position\n    eventId\n    type\n    recordedAt\n    actor\n    commandId\n    correlationId\n  }\n": typeof types.LastChangeFieldsFragmentDoc,
    "\n  fragment HistoryPageFields on StoredEventConnection {\n    edges {\n      cursor\n      node {\n        eventId\n        position\n        version\n        type\n        schemaVersion\n        recordedAt\n        payload\n        metadata { actor correlationId causationId commandId }\n      }\n    }\n    pageInfo { hasNextPage endCursor }\n  }\n": typeof types.HistoryPageFieldsFragmentDoc,
    "\n  query AccountHistory($id: ID!, $first: Int!, $types: [String!]) {\n    account(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n": typeof types.AccountHistoryDocument,
    "\n  query AccountAt($id: ID!, $atVersion: Int!) {\n    account(id: $id, atVersion: $atVersion) {\n      ...AccountFields\n      updatedAt\n      lastChange { ...LastChangeFields }\n    }\n  }\n": typeof types.AccountAtDocument,
    "\n  query PaymentHistory($id: ID!, $first: Int!, $types: [String!]) {\n    payment(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n": typeof types.PaymentHistoryDocument,
    "\n  query PaymentAt($id: ID!, $atVersion: Int!) {\n    payment(id: $id, atVersion: $atVersion) {\n      ...PaymentFields\n      orderId\n      lastChange { ...LastChangeFields }\n    }\n  }\n": typeof types.PaymentAtDocument,
    "\n  fragment ProductFields on Product {\n    id\n    sku\n    title\n    category\n    description\n    price { amount currency }\n    attributes\n    status\n    version\n    addedAt\n    updatedAt\n    stock { productId onHand reserved available version }\n  }\n": typeof types.ProductFieldsFragmentDoc,
    "\n  query Categories {\n    categories { name productCount }\n  }\n": typeof types.CategoriesDocument,
    "\n  query Products($category: String, $search: String, $inStock: Boolean, $orderBy: ProductOrder, $first: Int!) {\n    products(category: $category, search: $search, inStock: $inStock, orderBy: $orderBy, first: $first) {\n      edges { node { ...ProductFields } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.ProductsDocument,
    "\n  subscription ProductAdded($category: String) {\n    productAdded(category: $category) { ...ProductFields }\n  }\n": typeof types.ProductAddedDocument,
    "\n  subscription WatchStock($productId: ID!) {\n    stockChanged(productId: $productId) { productId onHand reserved available version }\n  }\n": typeof types.WatchStockDocument,
    "\n  mutation AddProduct($input: AddProductInput!) {\n    addProduct(input: $input) { productId product { ...ProductFields } }\n  }\n": typeof types.AddProductDocument,
    "\n  mutation RestockProduct($input: RestockProductInput!) {\n    restockProduct(input: $input) { productId stock { productId onHand reserved available version } }\n  }\n": typeof types.RestockProductDocument,
    "\n  fragment OrderFields on Order {\n    id\n    customerName\n    customerEmail\n    lines { productId quantity unitPrice { amount currency } amount { amount currency } }\n    total { amount currency }\n    status\n    reason\n    paymentId\n    version\n    placedAt\n    updatedAt\n  }\n": typeof types.OrderFieldsFragmentDoc,
    "\n  query Orders($first: Int!) {\n    orders(first: $first) { edges { node { ...OrderFields } } }\n  }\n": typeof types.OrdersDocument,
    "\n  subscription WatchOrder($id: ID!) {\n    orderUpdated(id: $id) { ...OrderFields }\n  }\n": typeof types.WatchOrderDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n": typeof types.PlaceOrderDocument,
    "\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n": typeof types.CancelOrderDocument,
    "\n  mutation ShipOrder($input: ShipOrderInput!) {\n    shipOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n": typeof types.ShipOrderDocument,
    "\n  query ProductHistory($id: ID!, $first: Int!, $types: [String!]) {\n    product(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n": typeof types.ProductHistoryDocument,
    "\n  query ProductAt($id: ID!, $atVersion: Int!) {\n    product(id: $id, atVersion: $atVersion) {\n      ...ProductFields\n      lastChange { ...LastChangeFields }\n    }\n  }\n": typeof types.ProductAtDocument,
    "\n  query OrderHistory($id: ID!, $first: Int!, $types: [String!]) {\n    order(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n": typeof types.OrderHistoryDocument,
    "\n  query OrderAt($id: ID!, $atVersion: Int!) {\n    order(id: $id, atVersion: $atVersion) {\n      ...OrderFields\n      lastChange { ...LastChangeFields }\n    }\n  }\n": typeof types.OrderAtDocument,
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
    "\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": types.OpenAccountDocument,
    "\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": types.CreditAccountDocument,
    "\n  mutation DebitAccount($input: DebitAccountInput!) {\n    debitAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n": types.DebitAccountDocument,
    "\n  fragment LastChangeFields on LastChange {\n    position\n    eventId\n    type\n    recordedAt\n    actor\n    commandId\n    correlationId\n  }\n": types.LastChangeFieldsFragmentDoc,
    "\n  fragment HistoryPageFields on StoredEventConnection {\n    edges {\n      cursor\n      node {\n        eventId\n        position\n        version\n        type\n        schemaVersion\n        recordedAt\n        payload\n        metadata { actor correlationId causationId commandId }\n      }\n    }\n    pageInfo { hasNextPage endCursor }\n  }\n": types.HistoryPageFieldsFragmentDoc,
    "\n  query AccountHistory($id: ID!, $first: Int!, $types: [String!]) {\n    account(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n": types.AccountHistoryDocument,
    "\n  query AccountAt($id: ID!, $atVersion: Int!) {\n    account(id: $id, atVersion: $atVersion) {\n      ...AccountFields\n      updatedAt\n      lastChange { ...LastChangeFields }\n    }\n  }\n": types.AccountAtDocument,
    "\n  query PaymentHistory($id: ID!, $first: Int!, $types: [String!]) {\n    payment(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n": types.PaymentHistoryDocument,
    "\n  query PaymentAt($id: ID!, $atVersion: Int!) {\n    payment(id: $id, atVersion: $atVersion) {\n      ...PaymentFields\n      orderId\n      lastChange { ...LastChangeFields }\n    }\n  }\n": types.PaymentAtDocument,
    "\n  fragment ProductFields on Product {\n    id\n    sku\n    title\n    category\n    description\n    price { amount currency }\n    attributes\n    status\n    version\n    addedAt\n    updatedAt\n    stock { productId onHand reserved available version }\n  }\n": types.ProductFieldsFragmentDoc,
    "\n  query Categories {\n    categories { name productCount }\n  }\n": types.CategoriesDocument,
    "\n  query Products($category: String, $search: String, $inStock: Boolean, $orderBy: ProductOrder, $first: Int!) {\n    products(category: $category, search: $search, inStock: $inStock, orderBy: $orderBy, first: $first) {\n      edges { node { ...ProductFields } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.ProductsDocument,
    "\n  subscription ProductAdded($category: String) {\n    productAdded(category: $category) { ...ProductFields }\n  }\n": types.ProductAddedDocument,
    "\n  subscription WatchStock($productId: ID!) {\n    stockChanged(productId: $productId) { productId onHand reserved available version }\n  }\n": types.WatchStockDocument,
    "\n  mutation AddProduct($input: AddProductInput!) {\n    addProduct(input: $input) { productId product { ...ProductFields } }\n  }\n": types.AddProductDocument,
    "\n  mutation RestockProduct($input: RestockProductInput!) {\n    restockProduct(input: $input) { productId stock { productId onHand reserved available version } }\n  }\n": types.RestockProductDocument,
    "\n  fragment OrderFields on Order {\n    id\n    customerName\n    customerEmail\n    lines { productId quantity unitPrice { amount currency } amount { amount currency } }\n    total { amount currency }\n    status\n    reason\n    paymentId\n    version\n    placedAt\n    updatedAt\n  }\n": types.OrderFieldsFragmentDoc,
    "\n  query Orders($first: Int!) {\n    orders(first: $first) { edges { node { ...OrderFields } } }\n  }\n": types.OrdersDocument,
    "\n  subscription WatchOrder($id: ID!) {\n    orderUpdated(id: $id) { ...OrderFields }\n  }\n": types.WatchOrderDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n": types.PlaceOrderDocument,
    "\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n": types.CancelOrderDocument,
    "\n  mutation ShipOrder($input: ShipOrderInput!) {\n    shipOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n": types.ShipOrderDocument,
    "\n  query ProductHistory($id: ID!, $first: Int!, $types: [String!]) {\n    product(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n": types.ProductHistoryDocument,
    "\n  query ProductAt($id: ID!, $atVersion: Int!) {\n    product(id: $id, atVersion: $atVersion) {\n      ...ProductFields\n      lastChange { ...LastChangeFields }\n    }\n  }\n": types.ProductAtDocument,
    "\n  query OrderHistory($id: ID!, $first: Int!, $types: [String!]) {\n    order(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n": types.OrderHistoryDocument,
    "\n  query OrderAt($id: ID!, $atVersion: Int!) {\n    order(id: $id, atVersion: $atVersion) {\n      ...OrderFields\n      lastChange { ...LastChangeFields }\n    }\n  }\n": types.OrderAtDocument,
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
export function graphql(source: "\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"): (typeof documents)["\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"): (typeof documents)["\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DebitAccount($input: DebitAccountInput!) {\n    debitAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"): (typeof documents)["\n  mutation DebitAccount($input: DebitAccountInput!) {\n    debitAccount(input: $input) { accountId account { ...AccountFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment LastChangeFields on LastChange {\n    position\n    eventId\n    type\n    recordedAt\n    actor\n    commandId\n    correlationId\n  }\n"): (typeof documents)["\n  fragment LastChangeFields on LastChange {\n    position\n    eventId\n    type\n    recordedAt\n    actor\n    commandId\n    correlationId\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment HistoryPageFields on StoredEventConnection {\n    edges {\n      cursor\n      node {\n        eventId\n        position\n        version\n        type\n        schemaVersion\n        recordedAt\n        payload\n        metadata { actor correlationId causationId commandId }\n      }\n    }\n    pageInfo { hasNextPage endCursor }\n  }\n"): (typeof documents)["\n  fragment HistoryPageFields on StoredEventConnection {\n    edges {\n      cursor\n      node {\n        eventId\n        position\n        version\n        type\n        schemaVersion\n        recordedAt\n        payload\n        metadata { actor correlationId causationId commandId }\n      }\n    }\n    pageInfo { hasNextPage endCursor }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AccountHistory($id: ID!, $first: Int!, $types: [String!]) {\n    account(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n"): (typeof documents)["\n  query AccountHistory($id: ID!, $first: Int!, $types: [String!]) {\n    account(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AccountAt($id: ID!, $atVersion: Int!) {\n    account(id: $id, atVersion: $atVersion) {\n      ...AccountFields\n      updatedAt\n      lastChange { ...LastChangeFields }\n    }\n  }\n"): (typeof documents)["\n  query AccountAt($id: ID!, $atVersion: Int!) {\n    account(id: $id, atVersion: $atVersion) {\n      ...AccountFields\n      updatedAt\n      lastChange { ...LastChangeFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PaymentHistory($id: ID!, $first: Int!, $types: [String!]) {\n    payment(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n"): (typeof documents)["\n  query PaymentHistory($id: ID!, $first: Int!, $types: [String!]) {\n    payment(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PaymentAt($id: ID!, $atVersion: Int!) {\n    payment(id: $id, atVersion: $atVersion) {\n      ...PaymentFields\n      orderId\n      lastChange { ...LastChangeFields }\n    }\n  }\n"): (typeof documents)["\n  query PaymentAt($id: ID!, $atVersion: Int!) {\n    payment(id: $id, atVersion: $atVersion) {\n      ...PaymentFields\n      orderId\n      lastChange { ...LastChangeFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ProductFields on Product {\n    id\n    sku\n    title\n    category\n    description\n    price { amount currency }\n    attributes\n    status\n    version\n    addedAt\n    updatedAt\n    stock { productId onHand reserved available version }\n  }\n"): (typeof documents)["\n  fragment ProductFields on Product {\n    id\n    sku\n    title\n    category\n    description\n    price { amount currency }\n    attributes\n    status\n    version\n    addedAt\n    updatedAt\n    stock { productId onHand reserved available version }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Categories {\n    categories { name productCount }\n  }\n"): (typeof documents)["\n  query Categories {\n    categories { name productCount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Products($category: String, $search: String, $inStock: Boolean, $orderBy: ProductOrder, $first: Int!) {\n    products(category: $category, search: $search, inStock: $inStock, orderBy: $orderBy, first: $first) {\n      edges { node { ...ProductFields } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query Products($category: String, $search: String, $inStock: Boolean, $orderBy: ProductOrder, $first: Int!) {\n    products(category: $category, search: $search, inStock: $inStock, orderBy: $orderBy, first: $first) {\n      edges { node { ...ProductFields } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ProductAdded($category: String) {\n    productAdded(category: $category) { ...ProductFields }\n  }\n"): (typeof documents)["\n  subscription ProductAdded($category: String) {\n    productAdded(category: $category) { ...ProductFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WatchStock($productId: ID!) {\n    stockChanged(productId: $productId) { productId onHand reserved available version }\n  }\n"): (typeof documents)["\n  subscription WatchStock($productId: ID!) {\n    stockChanged(productId: $productId) { productId onHand reserved available version }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddProduct($input: AddProductInput!) {\n    addProduct(input: $input) { productId product { ...ProductFields } }\n  }\n"): (typeof documents)["\n  mutation AddProduct($input: AddProductInput!) {\n    addProduct(input: $input) { productId product { ...ProductFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RestockProduct($input: RestockProductInput!) {\n    restockProduct(input: $input) { productId stock { productId onHand reserved available version } }\n  }\n"): (typeof documents)["\n  mutation RestockProduct($input: RestockProductInput!) {\n    restockProduct(input: $input) { productId stock { productId onHand reserved available version } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrderFields on Order {\n    id\n    customerName\n    customerEmail\n    lines { productId quantity unitPrice { amount currency } amount { amount currency } }\n    total { amount currency }\n    status\n    reason\n    paymentId\n    version\n    placedAt\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment OrderFields on Order {\n    id\n    customerName\n    customerEmail\n    lines { productId quantity unitPrice { amount currency } amount { amount currency } }\n    total { amount currency }\n    status\n    reason\n    paymentId\n    version\n    placedAt\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Orders($first: Int!) {\n    orders(first: $first) { edges { node { ...OrderFields } } }\n  }\n"): (typeof documents)["\n  query Orders($first: Int!) {\n    orders(first: $first) { edges { node { ...OrderFields } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WatchOrder($id: ID!) {\n    orderUpdated(id: $id) { ...OrderFields }\n  }\n"): (typeof documents)["\n  subscription WatchOrder($id: ID!) {\n    orderUpdated(id: $id) { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n"): (typeof documents)["\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n"): (typeof documents)["\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ShipOrder($input: ShipOrderInput!) {\n    shipOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n"): (typeof documents)["\n  mutation ShipOrder($input: ShipOrderInput!) {\n    shipOrder(input: $input) { orderId order { ...OrderFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProductHistory($id: ID!, $first: Int!, $types: [String!]) {\n    product(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n"): (typeof documents)["\n  query ProductHistory($id: ID!, $first: Int!, $types: [String!]) {\n    product(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProductAt($id: ID!, $atVersion: Int!) {\n    product(id: $id, atVersion: $atVersion) {\n      ...ProductFields\n      lastChange { ...LastChangeFields }\n    }\n  }\n"): (typeof documents)["\n  query ProductAt($id: ID!, $atVersion: Int!) {\n    product(id: $id, atVersion: $atVersion) {\n      ...ProductFields\n      lastChange { ...LastChangeFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OrderHistory($id: ID!, $first: Int!, $types: [String!]) {\n    order(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n"): (typeof documents)["\n  query OrderHistory($id: ID!, $first: Int!, $types: [String!]) {\n    order(id: $id) {\n      id\n      version\n      lastChange { ...LastChangeFields }\n      all: history(first: $first) { edges { node { version type } } }\n      history(first: $first, types: $types) { ...HistoryPageFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OrderAt($id: ID!, $atVersion: Int!) {\n    order(id: $id, atVersion: $atVersion) {\n      ...OrderFields\n      lastChange { ...LastChangeFields }\n    }\n  }\n"): (typeof documents)["\n  query OrderAt($id: ID!, $atVersion: Int!) {\n    order(id: $id, atVersion: $atVersion) {\n      ...OrderFields\n      lastChange { ...LastChangeFields }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;