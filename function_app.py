"""Collections Guard: the Azure Functions app. It registers the Blueprints and nothing else."""

import azure.functions as func

from functions.changes import bp as changes_bp
from functions.collections import bp as collections_bp
from functions.console import bp as console_bp
from functions.drift import bp as drift_bp
from functions.exposure import bp as exposure_bp
from functions.fraud import bp as fraud_bp
from functions.fraud_events import bp as fraud_events_bp
from functions.health import bp as health_bp
from functions.ledger import bp as ledger_bp
from functions.lists import bp as lists_bp
from functions.notices import bp as notices_bp
from functions.openapi import bp as openapi_bp
from functions.policy import bp as policy_bp
from functions.reconcile import bp as reconcile_bp
from functions.subscriptions import bp as subscriptions_bp

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

app.register_functions(health_bp)
app.register_functions(policy_bp)
app.register_functions(fraud_bp)
app.register_functions(fraud_events_bp)
app.register_functions(exposure_bp)
app.register_functions(reconcile_bp)
app.register_functions(drift_bp)
app.register_functions(openapi_bp)
app.register_functions(ledger_bp)
app.register_functions(collections_bp)
app.register_functions(notices_bp)
app.register_functions(changes_bp)
app.register_functions(lists_bp)
app.register_functions(subscriptions_bp)
app.register_functions(console_bp)
