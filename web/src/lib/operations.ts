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

// --- The history drawer: provenance, audit trail and time travel --------

export const LastChangeFields = graphql(`
  fragment LastChangeFields on LastChange {
    position
    eventId
    type
    recordedAt
    actor
    commandId
    correlationId
  }
`);

export const HistoryPageFields = graphql(`
  fragment HistoryPageFields on StoredEventConnection {
    edges {
      cursor
      node {
        eventId
        position
        version
        type
        schemaVersion
        recordedAt
        payload
        metadata { actor correlationId causationId commandId }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
`);

export const AccountHistoryQuery = graphql(`
  query AccountHistory($id: ID!, $first: Int!, $types: [String!]) {
    account(id: $id) {
      id
      version
      lastChange { ...LastChangeFields }
      all: history(first: $first) { edges { node { version type } } }
      history(first: $first, types: $types) { ...HistoryPageFields }
    }
  }
`);

export const AccountAtQuery = graphql(`
  query AccountAt($id: ID!, $atVersion: Int!) {
    account(id: $id, atVersion: $atVersion) {
      ...AccountFields
      updatedAt
      lastChange { ...LastChangeFields }
    }
  }
`);

export const PaymentHistoryQuery = graphql(`
  query PaymentHistory($id: ID!, $first: Int!, $types: [String!]) {
    payment(id: $id) {
      id
      version
      lastChange { ...LastChangeFields }
      all: history(first: $first) { edges { node { version type } } }
      history(first: $first, types: $types) { ...HistoryPageFields }
    }
  }
`);

export const PaymentAtQuery = graphql(`
  query PaymentAt($id: ID!, $atVersion: Int!) {
    payment(id: $id, atVersion: $atVersion) {
      ...PaymentFields
      orderId
      lastChange { ...LastChangeFields }
    }
  }
`);

// --- The shop: catalog and stock ----------------------------------------

export const ProductFields = graphql(`
  fragment ProductFields on Product {
    id
    sku
    title
    category
    description
    price { amount currency }
    attributes
    status
    version
    addedAt
    updatedAt
    stock { productId onHand reserved available version }
  }
`);

export const CategoriesQuery = graphql(`
  query Categories {
    categories { name productCount }
  }
`);

export const ProductsQuery = graphql(`
  query Products($category: String, $search: String, $inStock: Boolean, $orderBy: ProductOrder, $first: Int!) {
    products(category: $category, search: $search, inStock: $inStock, orderBy: $orderBy, first: $first) {
      edges { node { ...ProductFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const ProductAddedSubscription = graphql(`
  subscription ProductAdded($category: String) {
    productAdded(category: $category) { ...ProductFields }
  }
`);

export const StockSubscription = graphql(`
  subscription WatchStock($productId: ID!) {
    stockChanged(productId: $productId) { productId onHand reserved available version }
  }
`);

export const AddProduct = graphql(`
  mutation AddProduct($input: AddProductInput!) {
    addProduct(input: $input) { productId product { ...ProductFields } }
  }
`);

export const RestockProduct = graphql(`
  mutation RestockProduct($input: RestockProductInput!) {
    restockProduct(input: $input) { productId stock { productId onHand reserved available version } }
  }
`);

// --- The shop: orders -----------------------------------------------------

export const OrderFields = graphql(`
  fragment OrderFields on Order {
    id
    customerName
    customerEmail
    lines { productId quantity unitPrice { amount currency } amount { amount currency } }
    total { amount currency }
    status
    reason
    paymentId
    version
    placedAt
    updatedAt
  }
`);

export const OrdersQuery = graphql(`
  query Orders($first: Int!) {
    orders(first: $first) { edges { node { ...OrderFields } } }
  }
`);

export const OrderSubscription = graphql(`
  subscription WatchOrder($id: ID!) {
    orderUpdated(id: $id) { ...OrderFields }
  }
`);

export const PlaceOrder = graphql(`
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) { orderId order { ...OrderFields } }
  }
`);

export const CancelOrder = graphql(`
  mutation CancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) { orderId order { ...OrderFields } }
  }
`);

export const ShipOrder = graphql(`
  mutation ShipOrder($input: ShipOrderInput!) {
    shipOrder(input: $input) { orderId order { ...OrderFields } }
  }
`);

// --- The history drawer of products and orders ----------------------------

export const ProductHistoryQuery = graphql(`
  query ProductHistory($id: ID!, $first: Int!, $types: [String!]) {
    product(id: $id) {
      id
      version
      lastChange { ...LastChangeFields }
      all: history(first: $first) { edges { node { version type } } }
      history(first: $first, types: $types) { ...HistoryPageFields }
    }
  }
`);

export const ProductAtQuery = graphql(`
  query ProductAt($id: ID!, $atVersion: Int!) {
    product(id: $id, atVersion: $atVersion) {
      ...ProductFields
      lastChange { ...LastChangeFields }
    }
  }
`);

export const OrderHistoryQuery = graphql(`
  query OrderHistory($id: ID!, $first: Int!, $types: [String!]) {
    order(id: $id) {
      id
      version
      lastChange { ...LastChangeFields }
      all: history(first: $first) { edges { node { version type } } }
      history(first: $first, types: $types) { ...HistoryPageFields }
    }
  }
`);

export const OrderAtQuery = graphql(`
  query OrderAt($id: ID!, $atVersion: Int!) {
    order(id: $id, atVersion: $atVersion) {
      ...OrderFields
      lastChange { ...LastChangeFields }
    }
  }
`);
