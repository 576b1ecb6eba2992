-- wrk script: POST /api/v1/orders as many buyers (one signed token each, read from the file given after "--"),
-- one product line each over the whole catalog, every request with its own Idempotency-Key.
-- With a QUOTA (second argument) each thread stops after its share of that many orders.
local tokens, counter, quota, run = {}, 0, nil, nil
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do table.insert(tokens, line) end
  if args[2] then quota = math.ceil(tonumber(args[2]) / #threads) end
  run = args[3] or tostring(os.time())
  math.randomseed(os.time() * 100 + thread_id)
end

local body_format = '{"lines":[{"productId":%d,"quantity":%d}],"buyerName":"Load Test","email":"load@example.com",'
  .. '"shippingAddress":{"street":"1 Bench Road","city":"Leeds","postalCode":"LS1 1AA","country":"United Kingdom"}}'

function request()
  counter = counter + 1
  if quota and counter > quota then
    wrk.thread:stop()
  end
  local token = tokens[((counter * 7 + thread_id) % #tokens) + 1]
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("%s-%d-%d", run, thread_id, counter),
  }, string.format(body_format, math.random(1, 120), math.random(1, 3)))
end
