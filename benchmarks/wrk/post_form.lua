-- POST a form body (token issuance): wrk -s post_form.lua, body in env WRK_BODY
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
