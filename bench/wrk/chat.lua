-- wrk script: POST a small OpenAI chat completion request (the `chat` scenario).
-- The same body goes to every subject; Switchyard routes it by "model": "bench".
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer client-key"
wrk.body = '{"model":"bench","messages":[{"role":"system","content":"You are a terse assistant."},' ..
  '{"role":"user","content":"Say hello in five words."}],"max_tokens":16,"temperature":0}'
