"""The money ledger: donations (`donations`), their split (`split`, `currencies`), double-entry
postings and balances (`models`), and the operator's check and export (`audit`)."""
