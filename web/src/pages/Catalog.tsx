import { useEffect, useState } from 'react';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { AddProduct, CategoriesQuery, ProductAddedSubscription, ProductsQuery, RestockProduct, StockSubscription } from '../lib/operations';
import type { ProductFieldsFragment, ProductOrder } from '../gql/graphql';
import { describeError } from '../lib/errors';
import { useDebounced } from '../lib/debounce';
import { bookInput, skuFromTitle, type BookForm } from '../lib/shop';
import { formatMoney, shortId } from '../lib/format';
import { ErrorLine } from '../components/ErrorLine';
import { HistoryDrawer } from '../components/HistoryDrawer';
import { productHistory } from '../lib/history';
import { TableHead } from '../components/TableHead';

const pageSize = 25;
// Each shown product's stock is a subscription (stockChanged); the server
// caps a connection's subscriptions (100 by default), so only the first
// rows follow theirs live and the others show what the list read.
const liveStockRows = 60;

const orders: { id: ProductOrder; label: string }[] = [
  { id: 'NEWEST', label: 'Newest first' },
  { id: 'TITLE', label: 'By title' },
  { id: 'PRICE', label: 'Cheapest first' },
];

/**
 * The catalog: products by category (with counts), full-text search, the
 * stock of each (live), restocking, and a form to add a book. A book
 * added in any window shows here at once (productAdded), without reload.
 */
export function Catalog() {
  const [category, setCategory] = useState<string | null>(null);
  const [searchText, setSearchText] = useState('');
  const search = useDebounced(searchText.trim(), 250);
  const [inStock, setInStock] = useState(false);
  const [orderBy, setOrderBy] = useState<ProductOrder>('NEWEST');
  const [first, setFirst] = useState(pageSize);
  const [cats, refetchCats] = useQuery({ query: CategoriesQuery, requestPolicy: 'cache-and-network' });
  const [list, refetchList] = useQuery({
    query: ProductsQuery,
    variables: { category, search: search || null, inStock: inStock ? true : null, orderBy, first },
    requestPolicy: 'cache-and-network',
  });
  // New products, from any window: the list and the counts read again (the
  // server applies the filters and the order), and the new rows are marked.
  const [added] = useSubscription({ query: ProductAddedSubscription });
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  useEffect(() => {
    const p = added.data?.productAdded;
    if (!p) return;
    setFresh((s) => new Set(s).add(p.id));
    refetchList({ requestPolicy: 'network-only' });
    refetchCats({ requestPolicy: 'network-only' });
  }, [added.data, refetchList, refetchCats]);

  const products = list.data?.products.edges.map((e) => e.node) ?? [];
  const [historyOf, setHistoryOf] = useState<string | null>(null);
  const categories = cats.data?.categories ?? [];
  const total = categories.reduce((n, c) => n + c.productCount, 0);
  return (
    <div className="with-panel">
      <section className="page" aria-labelledby="catalog-title">
        <div className="page-head">
          <h1 id="catalog-title">Catalog</h1>
          <div className="filters">
            <label>
              Search <input type="search" name="search" value={searchText} onChange={(e) => setSearchText(e.target.value)} placeholder="dune -messiah" />
            </label>
            <label>
              Order{' '}
              <select value={orderBy} onChange={(e) => setOrderBy(e.target.value as ProductOrder)}>
                {orders.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.label}
                  </option>
                ))}
              </select>
            </label>
            <label className="check">
              <input type="checkbox" checked={inStock} onChange={(e) => setInStock(e.target.checked)} /> In stock only
            </label>
          </div>
        </div>
        <div className="chips" role="group" aria-label="Categories" data-testid="categories">
          <button type="button" className="chip" aria-pressed={category === null} onClick={() => setCategory(null)}>
            all <span className="count">{total}</span>
          </button>
          {categories.map((c) => (
            <button key={c.name} type="button" className="chip" aria-pressed={category === c.name} onClick={() => setCategory(c.name)}>
              {c.name} <span className="count">{c.productCount}</span>
            </button>
          ))}
        </div>
        {(list.error || cats.error || added.error) && (
          <p role="alert" className="error">
            {describeError((list.error ?? cats.error ?? added.error) as CombinedError)}
          </p>
        )}
        {products.length === 0 ? (
          <p>{list.fetching ? 'Loading…' : search ? `Nothing matches “${search}”.` : 'No products yet: add a book in the panel.'}</p>
        ) : (
          <table data-testid="products">
            <TableHead columns={['Title', 'Category', 'Pages', 'Price', 'Stock', 'Restock']} select />
            <tbody>
              {products.map((p, i) => (
                <ProductRow key={p.id} product={p} fresh={fresh.has(p.id)} live={i < liveStockRows} onHistory={() => setHistoryOf(p.id)} />
              ))}
            </tbody>
          </table>
        )}
        {list.data?.products.pageInfo.hasNextPage && (
          <button type="button" className="secondary" onClick={() => setFirst((n) => n + pageSize)}>
            Show more
          </button>
        )}
      </section>
      <aside className="panel" aria-label="Catalog actions">
        <AddBookForm />
      </aside>
      {historyOf && (
        <HistoryDrawer
          key={historyOf}
          source={productHistory}
          id={historyOf}
          version={products.find((p) => p.id === historyOf)?.version}
          onClose={() => setHistoryOf(null)}
        />
      )}
    </div>
  );
}

const attr = (p: ProductFieldsFragment, key: string): string => {
  const a = p.attributes as Record<string, unknown> | null;
  const v = a?.[key];
  return v === undefined || v === null ? '' : String(v);
};

function ProductRow({ product: p, fresh, live, onHistory }: { product: ProductFieldsFragment; fresh: boolean; live: boolean; onHistory: () => void }) {
  return (
    <tr className={fresh ? 'fresh' : undefined} data-sku={p.sku}>
      <td>
        <strong>{p.title}</strong>
        {fresh && <span className="new-badge">new</span>}
        <div className="muted">
          {attr(p, 'author') || p.description || '–'} · {p.sku}
        </div>
      </td>
      <td>{p.category}</td>
      <td>{attr(p, 'pages') || '–'}</td>
      <td className="nowrap">{formatMoney(p.price)}</td>
      <td className="nowrap">{live ? <LiveStock product={p} /> : <StockText stock={p.stock} />}</td>
      <td>
        <RestockForm product={p} />
      </td>
      <td>
        <button type="button" className="secondary" onClick={onHistory} aria-label={`History of ${p.title}`}>
          History
        </button>
      </td>
    </tr>
  );
}

function StockText({ stock }: { stock: ProductFieldsFragment['stock'] }) {
  return (
    <span data-testid="stock" className={stock.available === 0 ? 'stock-out' : undefined}>
      {stock.available} available
      {stock.reserved > 0 && <span className="muted"> ({stock.reserved} reserved)</span>}
    </span>
  );
}

/** The product's stock, following stockChanged (restocks, and the reservations orders make). */
function LiveStock({ product }: { product: ProductFieldsFragment }) {
  const [{ data }] = useSubscription({ query: StockSubscription, variables: { productId: product.id } });
  const s = data?.stockChanged;
  // The newer of the two: the list may have read past the last push.
  const stock = s && s.version >= product.stock.version ? s : product.stock;
  return <StockText stock={stock} />;
}

function RestockForm({ product }: { product: ProductFieldsFragment }) {
  const [quantity, setQuantity] = useState('10');
  const [result, restock] = useMutation(RestockProduct);
  return (
    <form
      className="inline"
      onSubmit={(e) => {
        e.preventDefault();
        void restock({ input: { id: product.id, quantity: Number(quantity) } });
      }}
    >
      <input
        type="number"
        min={1}
        max={1000000}
        value={quantity}
        onChange={(e) => setQuantity(e.target.value)}
        aria-label={`Units to add to ${product.title}`}
        className="qty"
      />
      <button type="submit" className="secondary" disabled={result.fetching} aria-label={`Restock ${product.title}`}>
        Restock
      </button>
      <ErrorLine error={result.error} what="the product" />
    </form>
  );
}

const emptyBook: BookForm = {
  sku: '',
  title: 'The Left Hand of Darkness',
  author: 'Ursula K. Le Guin',
  pages: '304',
  isbn: '',
  price: '12.50',
  currency: 'EUR',
  description: '',
};

function AddBookForm() {
  const [form, setForm] = useState<BookForm>(emptyBook);
  const [problem, setProblem] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const [result, add] = useMutation(AddProduct);
  const field = (key: keyof BookForm) => ({
    name: key,
    value: form[key],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value }),
  });
  return (
    <form
      className="card"
      aria-labelledby="add-book-title"
      data-testid="add-book"
      onSubmit={async (e) => {
        e.preventDefault();
        setAdded(null);
        const b = bookInput(form);
        if ('problem' in b) {
          setProblem(b.problem);
          return;
        }
        setProblem(null);
        const r = await add({ input: b.input });
        if (r.data) setAdded(`Added “${r.data.addProduct.product?.title ?? b.input.title}” (${shortId(r.data.addProduct.productId)})`);
      }}
    >
      <h2 id="add-book-title">Add a book</h2>
      <label>
        Title <input {...field('title')} required />
      </label>
      <label>
        Author <input {...field('author')} required />
      </label>
      <div className="row">
        <label>
          Pages <input {...field('pages')} inputMode="numeric" size={6} required />
        </label>
        <label>
          Price <input {...field('price')} inputMode="decimal" size={8} required />
        </label>
        <label>
          Currency <input {...field('currency')} size={4} required />
        </label>
      </div>
      <label>
        SKU <input {...field('sku')} placeholder={skuFromTitle(form.title)} aria-describedby="sku-hint" />
      </label>
      <p id="sku-hint" className="hint">
        Unique in your catalog; left empty, it is made from the title.
      </p>
      <label>
        ISBN <input {...field('isbn')} placeholder="optional, e.g. 978-0-441-47812-5" />
      </label>
      <label>
        Description <textarea {...field('description')} rows={2} />
      </label>
      <button type="submit" disabled={result.fetching}>
        Add the book
      </button>
      {problem && (
        <p role="alert" className="error" data-testid="action-error">
          {problem}
        </p>
      )}
      <ErrorLine error={result.error} what="the product" />
      {added && !result.error && (
        <p role="status" className="ok">
          {added}
        </p>
      )}
    </form>
  );
}
