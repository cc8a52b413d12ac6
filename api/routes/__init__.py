"""The API's routes, one APIRouter per module; api.app includes them."""
