-- wrk script: POST /api/v1/orders as many buyers (one signed token each, read from the file given after "--"),
-- one product line each over the whole catalog, every request with its own Idempotency-Key.
local tokens, counter, run = {}, 0, nil
local created = 0

function setup(thread)
  created = created + 1
  thread:set("thread_id", created)
end

function init(args)
  for line in io.lines(args[1]) do table.insert(tokens, line) end
  run = tostring(os.time())
  math.randomseed(os.time() * 100 + thread_id)
end

local body_format = '{"lines":[{"productId":%d,"quantity":%d}],"buyerName":"Load Test","email":"load@example.com",'
  .. '"shippingAddress":{"street":"1 Bench Road","city":"Leeds","postalCode":"LS1 1AA","country":"United Kingdom"}}'

function request()
  counter = counter + 1
  local token = tokens[((counter * 7 + thread_id) % #tokens) + 1]
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("%s-%d-%d", run, thread_id, counter),
  }, string.format(body_format, math.random(1, 120), math.random(1, 3)))
end
