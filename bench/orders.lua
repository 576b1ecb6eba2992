-- wrk script: POST /api/v1/orders as many buyers (one signed token each, read from the file given after "--"),
-- one product line each over the whole catalog, every request with its own Idempotency-Key.
-- Optional second argument: a target rate in orders/s for the whole run (see rate.lua).
package.path = "bench/?.lua;" .. package.path
local rate = require("rate")
local tokens, counter, run = {}, 0, nil

rate.install(2, function(args)
  for line in io.lines(args[1]) do table.insert(tokens, line) end
  run = tostring(os.time())
end)

local body_format = '{"lines":[{"productId":%d,"quantity":%d}],"buyerName":"Load Test","email":"load@example.com",'
  .. '"shippingAddress":{"street":"1 Bench Road","city":"Leeds","postalCode":"LS1 1AA","country":"United Kingdom"}}'

function request()
  counter = counter + 1
  local thread_id = rate.thread_id()
  local token = tokens[((counter * 7 + thread_id) % #tokens) + 1]
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("%s-%d-%d", run, thread_id, counter),
  }, string.format(body_format, math.random(1, 120), math.random(1, 3)))
end
