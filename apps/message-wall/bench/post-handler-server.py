# The peer of side-by-side.mjs: the AWS post's own MessageWall function (Python, fcntl.flock; a
# POST answers the whole wall), its code unchanged but for the file's path, called for every
# request by Python's threaded HTTP server on loopback, as API Gateway would call it. Every path
# serves the one wall. Needs only Python 3.
#
#   python3 post-handler-server.py PORT DIR    # the wall is DIR/content, one message per line
import os
import sys
import fcntl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MSG_FILE_PATH = os.path.join(sys.argv[2], 'content')


# --- the post's function, as published ---------------------------------------------------------
def get_messages():
    try:
        with open(MSG_FILE_PATH, 'r') as msg_file:
            fcntl.flock(msg_file, fcntl.LOCK_SH)
            messages = msg_file.read()
            fcntl.flock(msg_file, fcntl.LOCK_UN)
    except:
        messages = 'No message yet.'
    return messages


def add_message(new_message):
    with open(MSG_FILE_PATH, 'a') as msg_file:
        fcntl.flock(msg_file, fcntl.LOCK_EX)
        msg_file.write(new_message + "\n")
        fcntl.flock(msg_file, fcntl.LOCK_UN)


def delete_messages():
    try:
        os.remove(MSG_FILE_PATH)
    except:
        pass


def lambda_handler(event, context):
    method = event['requestContext']['http']['method']
    if method == 'GET':
        messages = get_messages()
    elif method == 'POST':
        new_message = event['body']
        add_message(new_message)
        messages = get_messages()
    elif method == 'DELETE':
        delete_messages()
        messages = 'Messages deleted.'
    else:
        messages = 'Method unsupported.'
    return messages
# ------------------------------------------------------------------------------------------------


class ApiGateway(BaseHTTPRequestHandler):
    """The request as an HTTP API event (the fields the function reads), its string as the body."""

    def log_message(self, *args):
        pass

    def invoke(self):
        body = self.rfile.read(int(self.headers.get('content-length', 0))).decode()
        event = {'requestContext': {'http': {'method': self.command}}, 'body': body}
        answer = lambda_handler(event, None).encode()
        self.send_response(200)
        self.send_header('content-type', 'text/plain')
        self.send_header('content-length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_DELETE = do_PUT = invoke


ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), ApiGateway).serve_forever()
