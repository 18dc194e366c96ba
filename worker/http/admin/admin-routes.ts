/**
 * @module admin/admin-routes
 * The admin API under `/admin/v1`: guarded by ADMIN_TOKEN (absent: 404),
 * with small JSON bodies, one file per resource.
 */
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../../core/errors";
import { adminAuth } from "../middleware/admin-auth";
import { registerAccountRoutes } from "./accounts-routes";
import { registerBackendAdminRoutes } from "./backends-routes";
import type { AdminApp } from "./admin-common";
import { registerKeyRoutes } from "./keys-routes";
import { registerRefusalAdminRoutes } from "./refusals-routes";
import { registerUsageAdminRoutes } from "./admin-usage-routes";
import { registerUsageSeriesAdminRoutes } from "./usage-series-routes";

/** Admin bodies are a few fields; anything larger is a mistake. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

export function registerAdminRoutes(app: AdminApp): void {
  app.use("/admin/*", adminAuth());
  app.use(
    "/admin/*",
    bodyLimit({
      maxSize: MAX_ADMIN_BODY_BYTES,
      onError: () => {
        throw new ApiError("request_too_large", `The request body exceeds the limit of ${MAX_ADMIN_BODY_BYTES} bytes.`);
      },
    }),
  );
  registerAccountRoutes(app);
  registerKeyRoutes(app);
  registerUsageAdminRoutes(app);
  registerRefusalAdminRoutes(app);
  registerUsageSeriesAdminRoutes(app);
  registerBackendAdminRoutes(app);
}
