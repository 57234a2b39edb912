"""Built-in providers: `local` (no network), `gemini`, `openai` (any OpenAI-compatible server), and
`fake`/`failing` twins for tests. `make_provider` builds one from a destination policy."""
