"""`closeloop mailer`: the built-in deliverer of messages to the complainant, by SMTP.

For organisations without a CRM or mail system that consumes
`complaints.customer-messages.v1`. It sends each message once (a durable ledger keyed by
message id), retries temporary SMTP trouble, reports `message.delivered` or
`message.failed` on `complaints.updates.v1`, and commits a message's offset only after it
was sent (or given up) and recorded. Recipients never appear in its logs.
"""
