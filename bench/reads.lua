-- wrk script: Catalog.Api's read mix over the whole catalog: product by id 70%, list pages with filters 20%, search 10%.
-- Optional argument after "--": a target rate in requests/s for this whole wrk run (see rate.lua).
package.path = "bench/?.lua;" .. package.path
local rate = require("rate")

local products, brands, types, pages = 120, 8, 6, 10
local terms = { "aurora", "mug", "hoodie", "cap", "glacier", "bottle", "nebula", "tundra", "pack", "shirt" }

rate.install(1)

function request()
  local roll = math.random(100)
  if roll <= 70 then
    return wrk.format("GET", "/api/v1/products/" .. math.random(products))
  elseif roll <= 90 then
    local path = "/api/v1/products?page=" .. math.random(pages) .. "&pageSize=12"
    local filter = math.random(3)
    if filter == 1 then path = path .. "&brandId=" .. math.random(brands) end
    if filter == 2 then path = path .. "&typeId=" .. math.random(types) end
    return wrk.format("GET", path)
  end
  return wrk.format("GET", "/api/v1/products?search=" .. terms[math.random(#terms)])
end
