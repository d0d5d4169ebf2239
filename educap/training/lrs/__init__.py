"""The xAPI 1.0.3 Learning Record Store: the statement resource at /xapi/.

validate (statement syntax), store (all-or-nothing batches, duplicates, voiding),
process (completions and CPD from completed/passed statements), auth (per-client HTTP
basic), query (GET filters and formats), views (HTTP), selectors (the admin pages' reads).
"""
