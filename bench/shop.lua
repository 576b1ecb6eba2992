-- wrk script: the shop front as shoppers browse it: catalog pages (with brand/type filters and paging) half the time,
-- product pages the other half.
package.path = "bench/?.lua;" .. package.path
local rate = require("rate")

rate.install(1)

function request()
  if math.random(2) == 1 then
    local path = "/?page=" .. math.random(10)
    local filter = math.random(3)
    if filter == 1 then path = path .. "&brand=" .. math.random(8) end
    if filter == 2 then path = path .. "&type=" .. math.random(6) end
    return wrk.format("GET", path)
  end
  return wrk.format("GET", "/products/" .. math.random(120))
end
