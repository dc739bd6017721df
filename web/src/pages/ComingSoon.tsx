/** A page whose API has not landed yet: says so, links nowhere. */
export function ComingSoon({ title, what, api }: { title: string; what: string; api: string }) {
  return (
    <section className="page" aria-labelledby="soon-title">
      <h1 id="soon-title">{title}</h1>
      <p className="placeholder">
        Coming with the {api} API: {what}.
      </p>
    </section>
  );
}
