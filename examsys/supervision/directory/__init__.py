"""The directory of evaluation organisations (评价机构目录): each organisation's filing record
(备案: kind, evaluation scope, filing date and expiry, directory status) and the history of every
change with its reason. Imports only accounts, so delivery may check a batch against the scope."""
