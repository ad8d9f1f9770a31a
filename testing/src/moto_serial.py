# moto's server, handling one request at a time. moto's own server is threaded
# and its DynamoDB backend takes no locks, so two concurrent conditional writes
# can both pass their condition; real DynamoDB makes each item write atomic.
# Serving requests one by one restores that guarantee, which the race tests need.
import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

host, port = sys.argv[1], int(sys.argv[2])
app = DomainDispatcherApplication(create_backend_app)
run_simple(host, port, app, threaded=False, use_reloader=False)
