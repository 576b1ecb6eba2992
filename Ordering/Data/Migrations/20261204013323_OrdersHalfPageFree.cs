using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AspireShop.Ordering.Data.Migrations
{
    /// <inheritdoc />
    public partial class OrdersHalfPageFree : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterTable(
                name: "orders",
                schema: "ordering")
                .Annotation("Npgsql:StorageParameter:fillfactor", 50)
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 80);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterTable(
                name: "orders",
                schema: "ordering")
                .Annotation("Npgsql:StorageParameter:fillfactor", 80)
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 50);
        }
    }
}
