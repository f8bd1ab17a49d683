"""Collections Guard: the Azure Functions app. It registers the Blueprints and nothing else."""

import azure.functions as func

from functions.fraud import bp as fraud_bp
from functions.health import bp as health_bp
from functions.policy import bp as policy_bp

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

app.register_functions(health_bp)
app.register_functions(policy_bp)
app.register_functions(fraud_bp)
